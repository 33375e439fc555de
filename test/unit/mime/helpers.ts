// Shared helpers for the MIME unit tests: fixture loading.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/mime/', import.meta.url));

export function fixture(name: string): Buffer {
  return readFileSync(FIXTURES + name);
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.eml'))
    .sort();
}

export function crlf(s: string): Buffer {
  return Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');
}
