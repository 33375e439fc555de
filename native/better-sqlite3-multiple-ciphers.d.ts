// The package ships index.d.ts but its "exports" map has no "types" condition, so NodeNext
// resolution cannot find it; point the module name at the shipped declarations.
declare module 'better-sqlite3-multiple-ciphers' {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  import Database = require('../node_modules/better-sqlite3-multiple-ciphers/index.d.ts');
  export = Database;
}
