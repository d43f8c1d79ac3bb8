// Launches the built desktop app (package.json `main`, as `electron .` would) in the stand-in
// Electron runtime, in its own process with its own user data folder, and gives the test its
// window (a Chromium page over the DevTools protocol) and what the desktop shows (state()).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ControlOp, ControlOps, DesktopState, FromRuntime } from './standin/control.ts';
import { interceptionUrl } from './standin/origin.ts';

export const ROOT = join(import.meta.dirname, '../..');
const START = join(import.meta.dirname, 'standin/start.ts');

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The suite runs the build `npm test` makes first; an older one would test yesterday's app. */
export async function requireFreshBuild(): Promise<void> {
  const built = await stat(join(ROOT, 'dist/main/main.js')).then((s) => s.mtimeMs, () => 0);
  const sources = Math.max(...['src-main', 'src-preload', 'src-renderer', 'src-shared'].map((d) => newestIn(join(ROOT, d))));
  if (built < sources) throw new Error('dist/ is missing or older than the sources: run `npm run build` first (npm test does)');
}

export interface LaunchOptions {
  /** The folder `electron .` would be run in; this project by default. */
  appDir?: string;
  /** The $XDG_CONFIG_HOME the app finds its ChatP2P folder in; a fresh one by default. */
  configHome?: string;
  env?: Record<string, string>;
}

export interface DesktopApp {
  readonly configHome: string;
  readonly userData: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  call<K extends ControlOp>(op: K, ...args: ControlOps[K]['args']): Promise<ControlOps[K]['result']>;
  state(): Promise<DesktopState>;
  /** The app's window, once Chromium shows it at the app's address (ChatP2P's by default). */
  window(appUrl?: string): Promise<Page>;
  /** Resolves with the exit code; rejects if the process is still running after `ms`. */
  exited(ms?: number): Promise<number | null>;
  kill(): Promise<void>;
}

const launched = new Set<DesktopApp>();

export async function launchApp(options: LaunchOptions = {}): Promise<DesktopApp> {
  const configHome = options.configHome ?? (await mkdtemp(join(tmpdir(), 'chatp2p-desktop-')));
  const child = fork(START, [options.appDir ?? ROOT], {
    cwd: ROOT,
    env: { ...process.env, XDG_CONFIG_HOME: configHome, LANG: 'en_US.UTF-8', ...options.env },
    execArgv: ['--disable-warning=ExperimentalWarning'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let devtools: (port: number) => void = () => undefined;
  const devtoolsPort = new Promise<number>((resolve) => (devtools = resolve));
  child.on('message', (message: FromRuntime) => {
    if (message.kind === 'devtools') return devtools(message.port);
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiting?.resolve(message.value);
    else waiting?.reject(new Error(message.error));
  });
  child.once('exit', () => {
    for (const waiting of pending.values()) waiting.reject(new Error(`The app exited:\n${output}`));
  });

  let browser: Browser | undefined;
  const desktop: DesktopApp = {
    configHome,
    userData: join(configHome, 'ChatP2P'),
    child,
    output: () => output,
    call(op, ...args) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ kind: 'call', id, op, args });
      });
    },
    state: () => desktop.call('state'),
    async window(appUrl = 'app://chatp2p/') {
      // A main that never lets the app get ready opens no window: say so rather than hang.
      await expect
        .poll(async () => (await desktop.state()).windows.length, { timeout: 15_000, message: `the app opened no window:\n${output}` })
        .toBeGreaterThan(0);
      browser ??= await chromium.connectOverCDP(`http://127.0.0.1:${await devtoolsPort}`);
      let page: Page | undefined;
      await expect
        .poll(() => (page = browser!.contexts()[0]?.pages().find((p) => p.url().startsWith(interceptionUrl(appUrl)))) !== undefined, { timeout: 15_000 })
        .toBe(true);
      page!.setDefaultTimeout(10_000);
      return page!;
    },
    async exited(ms = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`The app still runs after ${ms} ms:\n${output}`)), ms)));
      return Promise.race([exit, late]).finally(() => clearTimeout(timer));
    },
    async kill() {
      launched.delete(desktop);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exit;
      }
      if (!options.configHome) await rm(configHome, { recursive: true, force: true });
    },
  };
  launched.add(desktop);
  return desktop;
}

/** For afterEach/afterAll: nothing a test launched outlives it. */
export async function killApps(): Promise<void> {
  await Promise.all([...launched].map((app) => app.kill()));
}
