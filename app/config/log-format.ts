/**
 * Human-readable log lines for a terminal: local time, level, module, message, key fields.
 * Hand-written rather than pino-pretty: a dozen lines, no extra dependency, and the same field
 * extraction feeds the UI's log view.
 */
import { styleText } from 'node:util';

/** Record keys that are not "fields" of the event. */
const META = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'module', 'v']);

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** One field value as short text: errors by their message, objects as compact JSON. */
function fieldText(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string')
    return JSON.stringify((v as { message: string }).message);
  return JSON.stringify(v);
}

/** The event's own fields (everything but time, level, pid, message and module), as text. */
export function logFields(rec: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) if (!META.has(k)) out[k] = fieldText(v);
  return out;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `HH:MM:SS LEVEL module  message  key=value ...` in local time; null when `line` is not JSON. */
export function formatLogLine(line: string, color = false): string | null {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  const d = new Date(typeof rec.time === 'number' ? rec.time : Date.now());
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const levelNum = typeof rec.level === 'number' ? rec.level : 30;
  let level = (LEVEL_NAMES[levelNum] ?? 'INFO').padEnd(5);
  if (color) {
    const style = levelNum >= 50 ? 'red' : levelNum >= 40 ? 'yellow' : levelNum <= 20 ? 'gray' : 'green';
    level = styleText(style, level, { validateStream: false });
  }
  const module = typeof rec.module === 'string' ? rec.module : 'bridge';
  const fields = Object.entries(logFields(rec))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  return `${time} ${level} ${module.padEnd(9)} ${msg}${fields ? `  ${fields}` : ''}`;
}

/** A pino destination that writes each JSON record to `out` as a human line. */
export class PrettyStream {
  readonly #out: NodeJS.WritableStream;
  readonly #color: boolean;
  constructor(out: NodeJS.WritableStream, color: boolean) {
    this.#out = out;
    this.#color = color;
  }
  write(chunk: string): boolean {
    const text = formatLogLine(chunk, this.#color);
    this.#out.write(text === null ? chunk : `${text}\n`);
    return true;
  }
}
