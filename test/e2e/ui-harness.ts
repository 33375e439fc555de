/**
 * Shared pieces of the UI end-to-end tests: the real `lockbridge serve` process (line by line:
 * `locked` then `ready`), Chromium through playwright-core, axe-core accessibility checks run
 * inside the page (evaluated over CDP, so the server's CSP stays in force), screenshots, and
 * direct control API calls for cross-checks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CLI, ROOT } from '../helpers/cli.ts';

export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e');

/**
 * The few browser objects the page callbacks touch. The test program is type-checked without the
 * DOM lib (it would clash with Node's types), so callbacks reach them as
 * `(globalThis as unknown as PageGlobals)`; the cast is erased before Playwright sends the code.
 */
export interface PageElement {
  id: string;
  tagName: string;
  textContent: string | null;
  value?: string;
  labels?: ArrayLike<{ textContent: string | null }> | null;
  getAttribute(name: string): string | null;
  blur(): void;
}
export interface PageGlobals {
  document: {
    activeElement: PageElement | null;
    body: PageElement;
    documentElement: { scrollWidth: number };
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): { length: number };
  };
  innerWidth: number;
  getComputedStyle(el: PageElement): { outlineStyle: string; outlineWidth: string };
  MutationObserver: new (cb: () => void) => {
    observe(target: PageElement, opts: Record<string, boolean>): void;
  };
  axe?: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> };
  __seen?: Array<number | string>;
}

export interface ServeLines {
  next(ms?: number): Promise<Record<string, unknown>>;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `lockbridge serve` and hands out its stdout JSON lines one by one. */
export function startServe(
  home: string,
  args: string[],
  env: Record<string, string | undefined>,
): ServeLines {
  const child = spawn(process.execPath, [CLI, '--home', home, 'serve', ...args], {
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  let err = '';
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    wake?.();
  });
  child.once('exit', () => wake?.());
  return {
    stderr: () => err,
    async next(ms = 60_000) {
      const deadline = Date.now() + ms;
      while (lines.length === 0) {
        if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${err}`);
        if (Date.now() > deadline) throw new Error(`no line from serve within ${ms} ms:\n${err}`);
        await new Promise<void>((res) => {
          const t = setTimeout(res, 100);
          wake = () => {
            clearTimeout(t);
            res();
          };
        });
        wake = null;
      }
      return JSON.parse(lines.shift() as string) as Record<string, unknown>;
    },
    stop: (signal = 'SIGTERM') =>
      new Promise((res) => {
        if (child.exitCode !== null) return res(child.exitCode);
        child.once('exit', (code) => res(code));
        child.kill(signal);
      }),
  };
}

export interface ServedUi {
  serve: ServeLines;
  /** The first line serve printed (`locked` or `ready`, as asked). */
  line: Record<string, unknown>;
  token: string;
  controlPort: number;
}

/**
 * Starts `lockbridge serve`, expects its first line to be `event`, and opens the UI address it
 * printed (token in the fragment) in `page`.
 */
export async function serveUi(
  page: Page,
  home: string,
  args: string[],
  env: Record<string, string | undefined>,
  event: 'locked' | 'ready',
): Promise<ServedUi> {
  const serve = startServe(home, args, env);
  const line = await serve.next();
  assert.equal(line.event, event, JSON.stringify(line));
  const token = tokenOf(line.ui);
  await page.goto(String(line.ui));
  return { serve, line, token, controlPort: Number(line.control) };
}

export interface UiBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Fails when the page had errors, console errors or CSP violations (see watchPage). */
  assertClean(): void;
  close(): Promise<void>;
}

/** Builds the renderer (as `npm run build:ui`) when renderer/dist is missing. */
export function ensureRendererBuilt(): void {
  if (existsSync(join(ROOT, 'renderer', 'dist', 'index.html'))) return;
  const build = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'renderer'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(build.status, 0, `npm run build:ui failed:\n${build.stdout}${build.stderr}`);
}

/** The renderer built if needed, Chromium launched, one page opened and watched for errors. */
export async function openUi(
  viewport: { width: number; height: number },
  acceptDownloads = true,
): Promise<UiBrowser> {
  ensureRendererBuilt();
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport, acceptDownloads });
  const page = await context.newPage();
  const watch = watchPage(page);
  return { browser, context, page, assertClean: () => watch.assertClean(), close: () => browser.close() };
}

/** Saves the download that `click` starts to dir/downloads/<the name the page suggested>. */
export async function download(
  page: Page,
  dir: string,
  click: () => Promise<void>,
): Promise<{ name: string; path: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  mkdirSync(join(dir, 'downloads'), { recursive: true });
  const path = join(dir, 'downloads', dl.suggestedFilename());
  await dl.saveAs(path);
  return { name: dl.suggestedFilename(), path, text: readFileSync(path, 'utf8') };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.LOCKBRIDGE_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects page errors and CSP violations; `assertClean()` fails the test when there were any. */
export function watchPage(page: Page): { assertClean(): void } {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (
      m.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())
    )
      problems.push(`console error: ${m.text()}`);
    if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return {
    assertClean() {
      assert.deepEqual(problems, [], 'no page errors, console errors or CSP violations');
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe-core (WCAG 2.x A/AA and best practices) on the page; fails on any violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const has = await page.evaluate(() => typeof (globalThis as unknown as PageGlobals).axe === 'object');
  if (!has) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const g = globalThis as unknown as PageGlobals;
    const axe = g.axe as NonNullable<PageGlobals['axe']>;
    const r = await axe.run(g.document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  assert.deepEqual(
    violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
    [],
    `accessibility violations on ${what}`,
  );
}

/** A full-page screenshot to test-artifacts/e2e/<name>.png; also checks there is no horizontal scroll. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const overflow = await page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    return g.document.documentElement.scrollWidth - g.innerWidth;
  });
  assert.ok(overflow <= 0, `${name}: no horizontal scrolling (content is ${overflow}px too wide)`);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Calls the control API directly (to cross-check what the UI did). */
export async function control<T>(
  port: number,
  token: string,
  method: string,
  ...args: unknown[]
): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { result?: T; error?: { code: string; message: string } };
  if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
  return body.result as T;
}

export function tokenOf(uiUrl: unknown): string {
  const m = /#token=([\w-]+)$/.exec(String(uiUrl));
  assert.ok(m, `ui URL carries the token: ${String(uiUrl)}`);
  return m[1] as string;
}

/** Describes the focused element: its label (or text) and whether a focus ring is drawn. */
export async function focused(page: Page): Promise<{ name: string; tag: string; ring: boolean }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    const el = g.document.activeElement;
    if (!el || el === g.document.body) return { name: '', tag: 'body', ring: false };
    const input = el;
    const label =
      el.getAttribute('aria-label') ??
      (input.labels && input.labels[0] ? input.labels[0].textContent : null) ??
      el.textContent ??
      '';
    const cs = g.getComputedStyle(el);
    const ring = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
    return { name: label.replace(/\s+/g, ' ').trim(), tag: el.tagName.toLowerCase(), ring };
  });
}
