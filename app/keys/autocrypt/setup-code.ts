/** Autocrypt Setup Codes: 36 CSPRNG digits in 9 dash-separated blocks of 4 (numeric9x4). */
import { randomInt } from 'node:crypto';

export function generateSetupCode(): string {
  const blocks: string[] = [];
  for (let b = 0; b < 9; b++) {
    let s = '';
    for (let i = 0; i < 4; i++) s += String(randomInt(0, 10));
    blocks.push(s);
  }
  return blocks.join('-');
}

/** Normalizes a typed code: 36 digits with any separators → canonical `dddd-dddd-...`; else as typed. */
export function normalizeSetupCode(input: string): string {
  const digits = input.replace(/[^0-9]/g, '');
  if (digits.length !== 36) return input.trim();
  return digits.match(/.{4}/g)!.join('-');
}
