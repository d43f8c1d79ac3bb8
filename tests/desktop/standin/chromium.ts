// The stand-in's windows are pages in Debian's Chromium. A page of the app's scheme is loaded from
// its interception origin (origin.ts), whose every request is answered by the handler the app
// gave `protocol.handle`; the built preload
// runs in the page as Electron runs a sandboxed preload: a function body whose `require` offers
// only `electron` (contextBridge, ipcRenderer), with IPC carried by bindings that the page itself
// cannot reach once the preload has taken them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Route } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../helpers/chromium.ts';
import { app, schemeHandler } from './electron.ts';
import { appUrlOf, interceptionPattern, interceptionUrl } from './origin.ts';

let browser: Promise<{ context: BrowserContext; userDataDir: string }> | undefined;
let devtoolsListener: (port: number) => void = () => undefined;

export function onDevtools(listener: (port: number) => void): void {
  devtoolsListener = listener;
}

function launch(): Promise<{ context: BrowserContext; userDataDir: string }> {
  browser ??= (async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'chatp2p-standin-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      // The test attaches to the same browser over the DevTools protocol.
      args: [...CHROMIUM_ARGS, '--remote-debugging-port=0'],
      viewport: null,
      // The page's language is the system's, as in Electron.
      locale: app.getLocale(),
    });
    await context.route(interceptionPattern, answerFromProtocolHandler);
    const port = Number(readFileSync(join(userDataDir, 'DevToolsActivePort'), 'utf8').split('\n')[0]);
    devtoolsListener(port);
    return { context, userDataDir };
  })();
  return browser;
}

export async function closeBrowser(): Promise<void> {
  if (!browser) return;
  const { context, userDataDir } = await browser;
  await context.close().catch(() => undefined);
  rmSync(userDataDir, { recursive: true, force: true });
}

async function answerFromProtocolHandler(route: Route): Promise<void> {
  const request = route.request();
  const appUrl = appUrlOf(request.url());
  const handler = schemeHandler(new URL(appUrl).protocol.slice(0, -1));
  if (!handler) return route.abort('addressunreachable');
  const body = request.postDataBuffer();
  const response = await handler(new Request(appUrl, { method: request.method(), headers: await request.allHeaders(), body: body ?? undefined }));
  await route.fulfill({ status: response.status, headers: Object.fromEntries(response.headers), body: Buffer.from(await response.arrayBuffer()) });
}

export interface PageHandle {
  /** Resolves when the page has loaded, as BrowserWindow.loadURL; rejects as Electron does for an unknown scheme. */
  load(appUrl: string): Promise<void>;
  deliver(channel: string, args: unknown[]): void;
  close(): Promise<void>;
}

export interface PageOptions {
  preload: string | undefined;
  size: { width: number; height: number };
  invoke: (frameUrl: string, channel: string, args: unknown[]) => Promise<unknown>;
}

export async function openPage(options: PageOptions): Promise<PageHandle> {
  const { context } = await launch();
  const page = await context.newPage();
  await page.setViewportSize({ width: options.size.width, height: options.size.height });

  // Events for the page wait here until its preload asks for them (a long poll): the page has no
  // global it could call to read or forge them.
  const queue: Array<[string, unknown[]]> = [];
  let waiter: ((batch: Array<[string, unknown[]]>) => void) | undefined;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) waiter = undefined;
  });
  await page.exposeBinding('__standinIpcInvoke', ({ frame }, channel: string, args: unknown[]) => options.invoke(appUrlOf(frame.url()), channel, args));
  await page.exposeBinding('__standinIpcNext', () => {
    if (queue.length > 0) return queue.splice(0);
    return new Promise((resolve) => (waiter = resolve));
  });
  if (options.preload !== undefined) await page.addInitScript({ content: sandboxedPreload(readFileSync(options.preload, 'utf8')) });

  return {
    async load(appUrl) {
      const scheme = new URL(appUrl).protocol.slice(0, -1);
      if (!schemeHandler(scheme)) throw new Error(`ERR_UNKNOWN_URL_SCHEME (-302) loading '${appUrl}'`);
      await page.goto(interceptionUrl(appUrl), { waitUntil: 'load' });
    },
    deliver(channel, args) {
      queue.push([channel, args]);
      if (!waiter) return;
      const resolve = waiter;
      waiter = undefined;
      resolve(queue.splice(0));
    },
    close: () => closePage(page),
  };
}

async function closePage(page: Page): Promise<void> {
  await page.close().catch(() => undefined);
}

/**
 * The preload as a sandboxed renderer runs it: wrapped in a function, with a `require` that
 * knows only `electron`; contextBridge copies what it exposes (functions stay callable, the rest
 * is frozen, results and rejections are copied). It runs in the top frame only, before the
 * page's own scripts.
 */
function sandboxedPreload(source: string): string {
  return `(() => {
  const invoke = globalThis.__standinIpcInvoke;
  const next = globalThis.__standinIpcNext;
  delete globalThis.__standinIpcInvoke;
  delete globalThis.__standinIpcNext;
  if (window !== window.top) return;
  const listeners = new Map();
  const ipcRenderer = {
    invoke: (channel, ...args) => invoke(channel, structuredClone(args)),
    on(channel, listener) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel).add(listener);
      return ipcRenderer;
    },
    removeListener(channel, listener) {
      listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
    off(channel, listener) {
      return ipcRenderer.removeListener(channel, listener);
    },
  };
  // As Electron's bridge: values are copied both ways, and a rejected Error keeps only its message.
  const settle = (result) =>
    result !== null && typeof result === 'object' && typeof result.then === 'function'
      ? Promise.resolve(result).then(copy, (error) => {
          throw error instanceof Error ? new Error(error.message) : copy(error);
        })
      : copy(result);
  const copy = (value) => {
    if (typeof value === 'function') return (...args) => settle(value(...args.map(copy)));
    if (Array.isArray(value)) return Object.freeze(value.map(copy));
    if (value !== null && typeof value === 'object') return Object.freeze(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)])));
    return value;
  };
  const contextBridge = {
    exposeInMainWorld(key, api) {
      if (key in globalThis) throw new Error('Cannot bind an API on top of an existing property on the window object');
      Object.defineProperty(globalThis, key, { value: copy(api), enumerable: true });
    },
  };
  const require = (id) => {
    if (id === 'electron') return { contextBridge, ipcRenderer };
    throw new Error("module not found: " + id);
  };
  const module = { exports: {} };
  const process = Object.freeze({ type: 'renderer', sandboxed: true, contextIsolated: true, platform: ${JSON.stringify(process.platform)}, env: {} });
  (function (require, module, exports, process) {
${source}
  })(require, module, module.exports, process);
  (async () => {
    for (;;) {
      let batch;
      try {
        batch = await next();
      } catch {
        return;
      }
      for (const [channel, args] of batch) for (const listener of [...(listeners.get(channel) ?? [])]) listener({ sender: ipcRenderer }, ...args);
    }
  })();
})();`;
}
