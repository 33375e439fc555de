/**
 * Drives a command in a real terminal (tmux on a private server socket): what a person at a
 * terminal would read is what `capture-pane` returns.
 */
import { execFileSync } from 'node:child_process';

export interface TmuxPane {
  /** The visible screen and scrollback, as text. */
  screen(): string;
  /** Waits (polling the screen) until `pattern` appears; fails after `ms` with the screen shown. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  keys(...keys: string[]): void;
  close(): void;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

let sessions = 0;

/** Starts `argv` in a new 200-column tmux session with `env`; the pane stays after it exits. */
export function tmuxRun(argv: string[], env: Record<string, string> = {}): TmuxPane {
  const socket = `lb-test-${process.pid}-${++sessions}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: { ...process.env, TMUX: '' } });
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const command = `env ${assignments.join(' ')} ${argv.map(shellQuote).join(' ')}; echo "[exit $?]"; sleep 600`;
  tmux('new-session', '-d', '-s', 'lb', '-x', '200', '-y', '60', command);
  tmux('set-option', '-t', 'lb', 'history-limit', '5000');
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'lb');
  return {
    screen,
    async waitFor(pattern, ms = 60_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const text = screen();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`${pattern} did not appear; the terminal shows:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    keys: (...keys) => void tmux('send-keys', '-t', 'lb', ...keys),
    close: () => {
      try {
        tmux('kill-server');
      } catch {
        /* already gone */
      }
    },
  };
}
