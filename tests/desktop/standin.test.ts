// The stand-in keeps Electron's rules, or the desktop tests would prove nothing: `ready` waits for
// the main module's top-level await, and what belongs before or after `ready` throws elsewhere.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { killApps, launchApp } from './harness.ts';
import { eventually } from './suite.ts';

const folders: string[] = [];
afterEach(() => killApps());
afterAll(() => Promise.all(folders.map((f) => rm(f, { recursive: true, force: true }))));

/** An app folder as `electron .` expects it: package.json with an ES-module main. */
async function fixtureApp(main: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chatp2p-standin-app-'));
  folders.push(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', productName: 'Fixture', version: '1.0.0', type: 'module', main: 'main.js' }));
  await writeFile(join(dir, 'main.js'), main);
  return dir;
}

const ATTEMPT = `const attempt = (name, f) => { try { f(); console.log(name + ': ok'); } catch { console.log(name + ': threw'); } };`;

describe('the stand-in Electron runtime', () => {
  test('emits ready only after the main module, top-level await included, has settled', async () => {
    const app = await launchApp({
      appDir: await fixtureApp(`import { app } from 'electron';
await new Promise((resolve) => setTimeout(resolve, 200));
console.log('ready during top-level await: ' + app.isReady());
app.on('ready', () => { console.log('ready event'); app.quit(); });`),
    });
    expect(await app.exited()).toBe(0);
    expect(app.output()).toBe('ready during top-level await: false\nready event\n');
  });

  test('a main that awaits ready at its top level never gets it, and opens nothing', async () => {
    const app = await launchApp({ appDir: await fixtureApp(`import { app } from 'electron';\nawait app.whenReady();\nconsole.log('unreachable');`) });
    // A negative can only be watched for a while: a second of polling, ready never comes.
    for (let i = 0; i < 10; i++) {
      expect((await app.state()).ready).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await app.state()).windows).toEqual([]);
    expect(app.output()).toBe('');
  });

  test('what must come before ready throws after it, and what needs ready throws before it', async () => {
    const app = await launchApp({
      appDir: await fixtureApp(`import { app, BrowserWindow, Notification, Tray, protocol, screen } from 'electron';
${ATTEMPT}
attempt('BrowserWindow before ready', () => new BrowserWindow({ show: false }));
attempt('Tray before ready', () => new Tray(''));
attempt('Notification before ready', () => new Notification({ title: 'x' }));
attempt('protocol.handle before ready', () => protocol.handle('fx', () => new Response('')));
attempt('screen before ready', () => screen.getPrimaryDisplay());
attempt('enableSandbox before ready', () => app.enableSandbox());
attempt('registerSchemesAsPrivileged before ready', () => protocol.registerSchemesAsPrivileged([{ scheme: 'fx', privileges: { standard: true } }]));
app.whenReady().then(() => {
  attempt('enableSandbox after ready', () => app.enableSandbox());
  attempt('registerSchemesAsPrivileged after ready', () => protocol.registerSchemesAsPrivileged([{ scheme: 'fy' }]));
  attempt('protocol.handle after ready', () => protocol.handle('fx', () => new Response('')));
  attempt('Tray after ready', () => new Tray(''));
  app.quit();
});`),
    });
    expect(await app.exited()).toBe(0);
    expect(app.output().trim().split('\n')).toEqual([
      'BrowserWindow before ready: threw',
      'Tray before ready: threw',
      'Notification before ready: threw',
      'protocol.handle before ready: threw',
      'screen before ready: threw',
      'enableSandbox before ready: ok',
      'registerSchemesAsPrivileged before ready: ok',
      'enableSandbox after ready: threw',
      'registerSchemesAsPrivileged after ready: threw',
      'protocol.handle after ready: ok',
      'Tray after ready: ok',
    ]);
  });

  test('a window loads the scheme the app handles, not an unknown one; its sandboxed preload reaches ipcMain with the app URL as sender', async () => {
    const app = await launchApp({
      appDir: await fixtureApp(`import { app, BrowserWindow, ipcMain, protocol } from 'electron';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
protocol.registerSchemesAsPrivileged([{ scheme: 'fx', privileges: { standard: true, secure: true } }]);
const preload = join(import.meta.dirname, 'preload.cjs');
writeFileSync(preload, "const { contextBridge, ipcRenderer } = require('electron'); let fs = 'none'; try { require('fs'); fs = 'loaded'; } catch {} contextBridge.exposeInMainWorld('probe', { fs, ask: () => ipcRenderer.invoke('who') });");
ipcMain.handle('who', (event) => event.senderFrame.url);
app.whenReady().then(async () => {
  protocol.handle('fx', () => new Response('<title>fx</title><p>page</p>', { headers: { 'content-type': 'text/html' } }));
  const win = new BrowserWindow({ webPreferences: { preload, sandbox: true, contextIsolation: true } });
  await win.loadURL('nope://x/').then(() => console.log('nope: loaded'), () => console.log('nope: refused'));
  await win.loadURL('fx://host/page?q=1');
  console.log('loaded');
});`),
    });
    const page = await app.window('fx://host/');
    await eventually(() => app.output()).toContain('loaded\n');
    expect(app.output()).toContain('nope: refused');
    expect(await page.locator('p').textContent()).toBe('page');
    // The sandboxed preload: only 'electron' to require, IPC answered with the app URL as sender.
    expect(await page.evaluate('probe.fs')).toBe('none');
    expect(await page.evaluate('probe.ask()')).toBe('fx://host/page?q=1');
    expect(await page.evaluate('[typeof require, typeof __standinIpcInvoke, typeof __standinIpcNext]')).toEqual(['undefined', 'undefined', 'undefined']);
  });
});
