// What every desktop test file shares: our rendezvous server, a fresh build check, saved profiles
// as an earlier run would have left them, and teardown that leaves no app, engine or folder behind.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ConversationId, Settings } from '../../src-shared/chat-api.ts';
export { eventually } from '../helpers/eventually.ts';
import { stopEngines } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { killApps, requireFreshBuild } from './harness.ts';

export interface DesktopSuite {
  rendezvous: TestServer;
}

export function useDesktopSuite(options: { before?: (rendezvousPort: number) => Promise<void> } = {}): DesktopSuite {
  const suite = {} as DesktopSuite;
  beforeAll(async () => {
    await requireFreshBuild();
    suite.rendezvous = await startTestServer();
    await options.before?.(suite.rendezvous.port);
  });
  afterEach(() => killApps());
  afterAll(async () => {
    await stopEngines();
    await suite.rendezvous?.close();
  });
  return suite;
}

/** Timers that make the app find and measure its peers in about a second. */
const FAST_TIMERS: Settings['timers'] = { ackTimeoutS: 1, pingIntervalS: 1, discoverIntervalS: 5, maxReconnectAttempts: 5 };

/**
 * A $XDG_CONFIG_HOME whose ChatP2P folder holds the desktop settings of `name@CIC` on our
 * rendezvous server, as electron-store writes them; `patch` changes the profile or settings.
 */
export async function seedProfile(name: string, rendezvousPort: number, patch: { port?: number; settings?: Partial<Settings> } = {}): Promise<string> {
  const configHome = await mkdtemp(join(tmpdir(), 'chatp2p-desktop-'));
  const profile = { name, namespace: 'CIC', port: patch.port ?? 0, ttl: 7200, rendezvous: { preset: 'custom', host: '127.0.0.1', port: rendezvousPort } };
  await mkdir(join(configHome, 'ChatP2P'), { recursive: true });
  await writeFile(join(configHome, 'ChatP2P', 'desktop-settings.json'), JSON.stringify({ settings: { profile, timers: FAST_TIMERS, ...patch.settings } }));
  return configHome;
}

export const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });

export async function openChat(page: Page, id: ConversationId): Promise<void> {
  await page.getByTestId(`channel-${id}`).click();
  await composer(page).waitFor();
}
