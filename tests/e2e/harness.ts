// What every e2e file needs: the renderer built from the current sources, a ChatService with the
// browser host on a fresh data dir, Chromium, and polling helpers. Everything on 127.0.0.1.

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openMessageStore, type SqliteMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { ChatService } from '../../src-main/service/chat-service.ts';
import { historyPath } from '../../src-main/service/history-path.ts';
import { startWebHost, type WebHost } from '../../src-main/web/host.ts';
import { jsonFileSettingsStore } from '../../src-main/web/settings-file.ts';
import type { Profile, Settings } from '../../src-shared/chat-api.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.ts';
import { stopEngines } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

export const ROOT = join(import.meta.dirname, '../..');
const SETTINGS_FILE = 'web-settings.json';

/** Builds the renderer into `outDir` (a temp dir by default), so a test never runs a stale build. */
export async function buildRenderer(outDir?: string): Promise<string> {
  const dir = outDir ?? (await mkdtemp(join(tmpdir(), 'chatp2p-renderer-')));
  // Under vitest NODE_ENV is "test", so this bundle carries React's development build, about 1.7
  // times the shipped one: the 500 kB warning meant for production bundles does not apply.
  await build({
    configFile: join(ROOT, 'vite.config.ts'),
    root: join(ROOT, 'src-renderer'),
    logLevel: 'warn',
    build: { outDir: dir, emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  });
  return dir;
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'chatp2p-e2e-'));
}

/** Timers that make a test peer find and measure the others in about a second. */
export const FAST_TIMERS: Settings['timers'] = { ackTimeoutS: 1, pingIntervalS: 1, discoverIntervalS: 5, maxReconnectAttempts: 5 };

export function customProfile(name: string, namespace: string, rendezvousPort: number): Profile {
  return { name, namespace, port: 0, ttl: 7200, rendezvous: { preset: 'custom', host: '127.0.0.1', port: rendezvousPort } };
}

/** Writes a settings file the host will read, as a previous run would have left it. */
async function seedSettings(dataDir: string, settings: Partial<Settings>): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, SETTINGS_FILE), JSON.stringify(settings));
}

/** Writes a profile's history as an earlier run would have left it, through the host's own store. */
export function seedHistory(dataDir: string, peerId: string, write: (store: SqliteMessageStore) => void): void {
  const path = historyPath(dataDir, peerId);
  mkdirSync(dirname(path), { recursive: true });
  const store = openMessageStore(path);
  try {
    store.claim(peerId);
    write(store);
  } finally {
    store.close();
  }
}

export interface AppHost {
  service: ChatService;
  host: WebHost;
  dataDir: string;
  /** URLs the UI asked the host to open. */
  opened: string[];
  stop(): Promise<void>;
}

/** The browser host as `npm run web` runs it, in this process; `web` pins its port and token. */
export async function startAppHost(rendererDir: string, dataDir: string, web: { httpPort?: number; token?: string } = {}): Promise<AppHost> {
  const opened: string[] = [];
  const service = new ChatService({
    store: jsonFileSettingsStore(join(dataDir, SETTINGS_FILE)),
    dataDir,
    host: 'web',
    listenHost: '127.0.0.1',
    openExternal: (url) => void opened.push(url),
  });
  await service.start();
  const host = await startWebHost({ service, rendererDir, ...web });
  let stopped = false;
  return {
    service,
    host,
    dataDir,
    opened,
    async stop() {
      if (stopped) return;
      stopped = true;
      await host.close();
      await service.stop();
    },
  };
}

function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A fresh context (no storage shared with other tests) and one page in it. */
async function openPage(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', colorScheme: 'light', ...options });
  const page = await context.newPage();
  await page.goto(url);
  return { context, page };
}

export { eventually } from '../helpers/eventually.ts';

// Evaluated rather than added as a <script>: the app's CSP (script-src 'self') refuses inline scripts.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Waits for the CSS transitions under way to end: Tailwind's `transition` covers `display`, so
 * for its 150 ms an element going `hidden` is still shown, which a loaded machine makes visible.
 */
export async function settled(page: Page): Promise<void> {
  await page.evaluate('Promise.all(document.getAnimations().filter((a) => a instanceof CSSTransition).map((a) => a.finished.catch(() => undefined)))');
}

/**
 * axe-core on the page as it is now, once its transitions ended: every serious or critical
 * violation (WCAG 2.x A and AA, colour contrast included), as `rule: selector (what axe says)`,
 * one line per element.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await settled(page);
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(AXE_SOURCE);
  type Result = { id: string; impact: string | null; nodes: { target: unknown[]; failureSummary?: string }[] };
  const violations = await page.evaluate<Result[]>(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] }).then((r) => r.violations)",
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 160)})`));
}

/** The id of the element with the focus (a string: the tests are type-checked without the DOM library). */
export const focusedId = (page: Page) => page.evaluate<string | null>('document.activeElement?.id || null');

export const SCREENSHOTS = process.env.CHATP2P_SCREENSHOTS === '1';

/** Saves docs/screenshots/<name>.png, only when CHATP2P_SCREENSHOTS=1 (npm test leaves them alone). */
export async function screenshot(page: Page, name: string, clip?: Locator, maxHeight = Infinity): Promise<void> {
  if (!SCREENSHOTS) return;
  const box = clip ? await clip.boundingBox() : null;
  await page.screenshot({ path: join(ROOT, 'docs/screenshots', `${name}.png`), clip: box ? { ...box, height: Math.min(box.height, maxHeight) } : undefined });
}

async function removeDirs(...dirs: (string | undefined)[]): Promise<void> {
  await Promise.all(dirs.map((d) => d && rm(d, { recursive: true, force: true })));
}

/** What one e2e file shares across its tests; filled in before the first test runs. */
export interface Suite {
  rendezvous: TestServer;
  /** Undefined when the file runs its own host (`host: false`); a test may replace it. */
  app: AppHost;
  browser: Browser;
  rendererDir: string;
  dataDir: string;
  /** A page in a fresh context (each closed after the test), at the app's address unless told another. */
  open(options?: BrowserContextOptions, url?: string): Promise<Page>;
}

export interface SuiteOptions {
  /** Settings as a previous run would have left them, given our rendezvous server's port. */
  settings?: (rendezvousPort: number) => Partial<Settings>;
  /** Before the host starts: other files a previous run would have left in the data dir. */
  seed?: (dataDir: string) => void | Promise<void>;
  /** Start the browser host in this process (default true). */
  host?: boolean;
  /** After the host, before Chromium: start peers, a child process, ... */
  before?: (suite: Suite) => Promise<void>;
  /** First thing at the end, before the shared teardown. */
  after?: () => Promise<void>;
}

/**
 * Registers the file's hooks: our rendezvous server, the renderer built from the current sources,
 * a fresh data dir, the host, Chromium; and stops all of it, engines included, at the end.
 */
export function useSuite(options: SuiteOptions = {}): Suite {
  const contexts: BrowserContext[] = [];
  const suite = {
    async open(contextOptions: BrowserContextOptions = {}, url = suite.app.host.url): Promise<Page> {
      const opened = await openPage(suite.browser, url, contextOptions);
      contexts.push(opened.context);
      opened.page.setDefaultTimeout(10_000);
      return opened.page;
    },
  } as Suite;

  beforeAll(async () => {
    suite.rendezvous = await startTestServer();
    suite.dataDir = await tempDir();
    if (options.settings) await seedSettings(suite.dataDir, options.settings(suite.rendezvous.port));
    await options.seed?.(suite.dataDir);
    if (options.host !== false) {
      suite.rendererDir = await buildRenderer();
      suite.app = await startAppHost(suite.rendererDir, suite.dataDir);
    }
    await options.before?.(suite);
    suite.browser = await launchChromium();
  });

  // Whatever screen a test ends on is checked too: no e2e screen escapes axe.
  afterEach(async () => {
    const pages = contexts.flatMap((c) => c.pages()).filter((p) => !p.isClosed());
    const problems = (await Promise.all(pages.map((p) => accessibilityProblems(p).catch(() => [])))).flat();
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    if (problems.length > 0) throw new Error(`axe at the end of the test:\n${problems.join('\n')}`);
  });

  afterAll(async () => {
    await options.after?.();
    await suite.browser?.close();
    await suite.app?.stop();
    await stopEngines();
    await suite.rendezvous?.close();
    await removeDirs(suite.rendererDir, suite.dataDir);
  });

  return suite;
}

/** The messenger as a user first sees it: a fresh page of the suite's host, once the profile shows. */
export async function openMessenger(suite: Suite): Promise<Page> {
  const page = await suite.open();
  await page.getByTestId('own-peer-id').waitFor();
  return page;
}

/**
 * Chromium shows Web Notifications outside the page; this init script records each one the page
 * creates (the real constructor still runs) and each tone the sound plays.
 */
export const NOTIFICATION_RECORDER = `
  window.__shown = [];
  window.__chimes = 0;
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) { super(title, options); window.__shown.push(this); }
  };
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__chimes++; return start.apply(this, args); };`;
/** `title: body` of each Web Notification the page showed (with NOTIFICATION_RECORDER). */
export const shownNotifications = (page: Page) => page.evaluate<string[]>('window.__shown.map((n) => n.title + ": " + n.body)');
export const chimes = (page: Page) => page.evaluate<number>('window.__chimes');

export const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
export const bubble = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });
