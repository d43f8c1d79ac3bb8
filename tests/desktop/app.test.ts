// The desktop app as a user gets it: the built main, preload and renderer in the stand-in
// Electron runtime (only Electron's binary is stood in), against our rendezvous server and a real
// engine peer on 127.0.0.1. If main deadlocks before `ready`, every test here times out.
import { readFile, stat } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { identityKeyPath } from '../../src-main/engine/secure/identity.ts';
import { historyPath } from '../../src-main/service/history-path.ts';
import { requestJson } from '../helpers/rendezvous.ts';
import { startEngine, waitFor, type TestEngine } from '../helpers/peers.ts';
import { startSecureEngine, stopSecureEngine } from '../secure/helpers.ts';
import { composer, eventually, openChat, seedProfile, useDesktopSuite, type DesktopSuite } from './suite.ts';
import { launchApp, type DesktopApp } from './harness.ts';

let bob: TestEngine;
const suite: DesktopSuite = useDesktopSuite({ before: async (port) => void (bob = await startEngine(port, 'bob', 'CIC')) });

const bubble = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });

/** The desktop app with a saved profile `name@CIC`, its window open and its peer connected to bob. */
async function launchAs(name: string): Promise<{ app: DesktopApp; page: Page; windowId: number }> {
  const app = await launchApp({ configHome: await seedProfile(name, suite.rendezvous.port) });
  const page = await app.window();
  await page.getByTestId('own-peer-id').filter({ hasText: `You are ${name}@CIC` }).waitFor();
  await waitFor(`bob to connect to ${name}`, () => bob.peer(`${name}@CIC`)?.state === 'open', 15_000);
  const [window] = (await app.state()).windows;
  return { app, page, windowId: window!.id };
}

async function listed(peerId: string): Promise<boolean> {
  const reply = await requestJson(suite.rendezvous.port, { type: 'DISCOVER', namespace: 'CIC' });
  return (reply.peers as Array<{ name: string; namespace: string }>).some((p) => `${p.name}@${p.namespace}` === peerId);
}

describe('the desktop app', () => {
  test('first run opens the window at the profile form; joining puts the user on the network', async () => {
    const app = await launchApp();
    const page = await app.window();
    await page.getByRole('heading', { name: 'Welcome to ChatP2P' }).waitFor();
    const state = await app.state();
    expect(state.ready).toBe(true);
    expect(state.windows).toMatchObject([{ url: 'app://chatp2p/', visible: true, focused: true }]);
    expect(state.tray?.menu.map((item) => item.label)).toEqual(['Open ChatP2P', 'Mute notifications', '', 'Quit ChatP2P']);
    expect(state.applicationMenu?.map((item) => item.role)).toEqual(['fileMenu', 'editMenu', 'viewMenu', 'windowMenu']);

    await page.getByLabel('Name', { exact: true }).fill('alice');
    await page.getByLabel('Namespace', { exact: true }).fill('CIC');
    await page.getByLabel('Port', { exact: true }).fill('0');
    await page.getByRole('radio', { name: /Another server/ }).check();
    await page.getByLabel('Server address').fill(`127.0.0.1:${suite.rendezvous.port}`);
    await page.getByRole('button', { name: 'Join the network' }).click();
    await page.getByTestId('own-peer-id').filter({ hasText: 'You are alice@CIC' }).waitFor();
    await page.getByTestId('registration').filter({ hasText: 'Online' }).waitFor();
    await waitFor('bob to connect to alice', () => bob.peer('alice@CIC')?.state === 'open', 15_000);
    expect(await listed('alice@CIC')).toBe(true);

    // A refusal from main crosses IPC and the context bridge as its code, for the window to word.
    expect(await page.evaluate("window.chat.openLink('javascript:alert(1)').then(() => 'opened', (error) => error)")).toMatchObject({ code: 'link-refused' });
    expect((await app.state()).openedExternal).toEqual([]);
  });

  test('a DM typed in the window is delivered, and the reply appears', async () => {
    const { page } = await launchAs('dora');
    await openChat(page, 'dm:bob@CIC');
    await composer(page).fill('Oi bob, pelo app');
    await composer(page).press('Enter');
    await eventually(() => bubble(page, 'Oi bob, pelo app').getAttribute('data-delivery')).toBe('delivered');
    await waitFor('bob to receive the DM', () => bob.messages.some((m) => m.from === 'dora@CIC' && m.text === 'Oi bob, pelo app'));
    bob.engine.sendDirect('dora@CIC', 'Chegou, valeu!');
    await bubble(page, 'Chegou, valeu!').waitFor();
  });

  test('with the window unfocused a DM raises a notification; clicking it focuses the window on that chat', async () => {
    // (Which messages notify, window by window and chat by chat, is tests/app/notifications.test.ts.)
    const { app, page, windowId } = await launchAs('erin');
    await openChat(page, '*');
    await app.call('blurWindow', windowId);
    bob.engine.sendDirect('erin@CIC', 'ping from <b>bob</b>');
    await eventually(async () => (await app.state()).notifications).toHaveLength(1);
    const [shown] = (await app.state()).notifications;
    // Linux notification servers read markup: the peer's text stays text.
    expect(shown).toMatchObject({ title: 'bob@CIC', body: 'ping from &lt;b&gt;bob&lt;/b&gt;', shown: true });

    await app.call('clickNotification', shown!.id);
    await eventually(async () => (await app.state()).windows[0]?.focused).toBe(true);
    await page.getByTestId('conversation-title').filter({ hasText: 'bob@CIC' }).waitFor();
    await bubble(page, 'ping from <b>bob</b>').waitFor();
  });

  test('when the system refuses notifications, the message shows as a banner in the window that opens its chat', async () => {
    const app = await launchApp({ configHome: await seedProfile('nina', suite.rendezvous.port), env: { STANDIN_NOTIFICATIONS: 'fail' } });
    const page = await app.window();
    await waitFor('bob to connect to nina', () => bob.peer('nina@CIC')?.state === 'open', 15_000);
    await openChat(page, '*');
    bob.engine.sendDirect('nina@CIC', 'are you getting these?');
    bob.engine.sendDirect('nina@CIC', 'second try');
    const banners = page.getByTestId('in-app-notification');
    await banners.filter({ hasText: 'second try' }).waitFor();
    expect(await banners.first().textContent()).toBe('New message from bob@CICare you getting these?');
    expect(app.output().match(/refused a desktop notification/g)).toHaveLength(1);
    await banners.first().getByRole('button', { name: /New message from bob@CIC/ }).click();
    await page.getByTestId('conversation-title').filter({ hasText: 'bob@CIC' }).waitFor();
    await banners.first().waitFor({ state: 'detached' });
  });

  test('the badge and the tray count follow unread messages', async () => {
    const { app, page } = await launchAs('fred');
    await openChat(page, '*');
    bob.engine.sendDirect('fred@CIC', 'one');
    bob.engine.sendDirect('fred@CIC', 'two');
    await eventually(async () => (await app.state()).badgeCount).toBe(2);
    expect((await app.state()).tray?.tooltip).toBe('ChatP2P: 2 unread messages');
    await openChat(page, 'dm:bob@CIC');
    await eventually(async () => (await app.state()).badgeCount).toBe(0);
    expect((await app.state()).tray?.tooltip).toBe('ChatP2P');
  });

  test("the tray's Quit says BYE to the peer and takes the record off the rendezvous server", async () => {
    const { app } = await launchAs('gina');
    expect(await listed('gina@CIC')).toBe(true);
    await app.call('clickTrayItem', 'Quit ChatP2P');
    expect(await app.exited()).toBe(0);
    expect(bob.logs.some((line) => line.includes('gina@CIC said BYE'))).toBe(true);
    expect(await listed('gina@CIC')).toBe(false);
  });

  test('closing the last window quits the same way', async () => {
    const { app, windowId } = await launchAs('hugo');
    await app.call('closeWindow', windowId);
    expect(await app.exited()).toBe(0);
    expect(bob.logs.some((line) => line.includes('hugo@CIC said BYE'))).toBe(true);
    expect(await listed('hugo@CIC')).toBe(false);
  });

  test('kept in the tray, a closed window hides (the Settings say how to get it back) and a second launch shows it', async () => {
    const { app, page, windowId } = await launchAs('lara');
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    // The switch follows the saved setting, so it turns on once main has stored it.
    const keepInTray = page.getByRole('switch', { name: 'Keep running in the tray when the window is closed' });
    await keepInTray.click();
    await eventually(() => keepInTray.isChecked()).toBe(true);
    await page.getByText('Stock GNOME shows no tray icon').waitFor();
    await app.call('closeWindow', windowId);
    await eventually(async () => (await app.state()).windows[0]?.visible).toBe(false);
    expect(bob.peer('lara@CIC')?.state).toBe('open');

    const second = await launchApp({ configHome: app.configHome });
    expect(await second.exited()).toBe(0);
    await eventually(async () => (await app.state()).windows[0]).toMatchObject({ visible: true, focused: true });
  });

  test("a ChatP2P peer gets a sealed chat with the app, whose node:crypto (BoringSSL's, as in Electron) has no ChaCha20-Poly1305", async () => {
    const zoe = await startSecureEngine(suite.rendezvous.port, 'zoe');
    try {
      const { page } = await launchAs('quinn');
      await waitFor('zoe and quinn sealed', () => zoe.security('quinn@CIC') === 'encrypted', 15_000);
      await openChat(page, 'dm:zoe@CIC');
      await page.locator('main header').getByTestId('security').filter({ hasText: 'Encrypted' }).waitFor();
      await composer(page).fill('Selado pelo app');
      await composer(page).press('Enter');
      await eventually(() => bubble(page, 'Selado pelo app').getAttribute('data-delivery')).toBe('delivered');
      expect(zoe.messages.map((m) => m.text)).toEqual(['Selado pelo app']);
      zoe.engine.sendDirect('quinn@CIC', 'Recebido, selado');
      await bubble(page, 'Recebido, selado').waitFor();
    } finally {
      await stopSecureEngine(zoe);
    }
  });

  test("the identity key is wrapped by the OS keychain (safeStorage), and the next launch has the same key", async () => {
    const { app, page } = await launchAs('omar');
    const identity = () => page.evaluate<{ fingerprint: string; protectedAtRest: boolean }>('window.chat.getSnapshot().then((s) => s.status.identity)');
    const first = await identity();
    expect(first.protectedAtRest).toBe(true);
    const keyFile = JSON.parse(await readFile(identityKeyPath(historyPath(app.userData, 'omar@CIC')), 'utf8')) as { protection: string };
    expect(keyFile.protection).toBe('electron-safeStorage');
    await app.call('clickTrayItem', 'Quit ChatP2P');
    expect(await app.exited()).toBe(0);

    const again = await launchApp({ configHome: app.configHome });
    const page2 = await again.window();
    await page2.getByTestId('own-peer-id').waitFor();
    expect(await page2.evaluate<{ fingerprint: string }>('window.chat.getSnapshot().then((s) => s.status.identity)')).toEqual(first);
  });

  test('without a real keychain (Linux basic_text) the key stays a 0600 file, and Settings say so', async () => {
    const app = await launchApp({ configHome: await seedProfile('pia', suite.rendezvous.port), env: { STANDIN_KEYCHAIN: 'basic_text' } });
    const page = await app.window();
    await page.getByTestId('own-peer-id').waitFor();
    const keyPath = identityKeyPath(historyPath(app.userData, 'pia@CIC'));
    expect((JSON.parse(await readFile(keyPath, 'utf8')) as { protection: string }).protection).toBe('none');
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByText('this system offers no keychain to encrypt it').waitFor();
  });

  test('a second launch focuses the first window and ends', async () => {
    const { app, windowId } = await launchAs('iris');
    await app.call('blurWindow', windowId);
    const second = await launchApp({ configHome: app.configHome });
    expect(await second.exited()).toBe(0);
    await eventually(async () => (await app.state()).windows[0]?.focused).toBe(true);
    expect(bob.logs.filter((line) => line.includes('iris@CIC said BYE'))).toEqual([]);
  });
});
