/** What every CLI command gets: the data directory and the output streams. */
export interface CliContext {
  home: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
