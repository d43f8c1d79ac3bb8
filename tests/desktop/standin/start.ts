// `node tests/desktop/standin/start.ts <app folder>`: the stand-in Electron runtime. Like
// Electron, it reads the folder's package.json, imports its `main` as an ES module with `electron`
// resolving to the stand-in, and emits `ready` only once that import has settled (a main module
// that awaits `ready` at its top level therefore never gets it, as in Electron). The test drives
// it over the child-process IPC channel (control.ts).
import './boringssl.ts';
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ControlOps, FromRuntime, ToRuntime } from './control.ts';

const appDir = resolve(process.argv[2] ?? '.');
process.env.STANDIN_APP_PATH = appDir;
// Electron's main process says so; electron-store reads it to know where it runs.
Object.defineProperty(process, 'type', { value: 'browser' });

const STANDIN_URL = new URL('./electron.ts', import.meta.url).href;
registerHooks({
  resolve: (specifier, context, nextResolve) => (specifier === 'electron' ? { url: STANDIN_URL, shortCircuit: true } : nextResolve(specifier, context)),
});

const electron = await import('./electron.ts');
const { onDevtools, closeBrowser } = await import('./chromium.ts');

const send = (message: FromRuntime) => process.send?.(message);

// Electron's message loop keeps the process alive until the app quits, whatever main awaits.
const messageLoop = setInterval(() => undefined, 1 << 30);
electron.setExitHandler(async (code) => {
  clearInterval(messageLoop);
  await closeBrowser();
  process.exit(code);
});
// The test that started us is gone: so is the desktop session.
process.on('disconnect', () => electron.app.exit(0));
// Electron's default for an uncaught error in main: a dialog, and the app goes on.
process.on('uncaughtException', (error) => electron.dialog.showErrorBox('A JavaScript error occurred in the main process', `Uncaught Exception:\n${error.stack ?? String(error)}`));
onDevtools((port) => send({ kind: 'devtools', port }));

const ops: { [K in keyof ControlOps]: (...args: ControlOps[K]['args']) => ControlOps[K]['result'] } = {
  state: () => electron.desktopState(),
  clickNotification: (id) => electron.notificationById(id).userClick(),
  clickTray: () => void electron.trayNow().emit('click'),
  clickTrayItem: (label) => {
    const item = electron.trayNow().menu?.items.find((i) => i.label === label);
    if (!item) throw new Error(`The tray menu has no item "${label}"`);
    item.click();
  },
  blurWindow: (id) => electron.windowById(id).blur(),
  closeWindow: (id) => electron.windowById(id).close(),
};

process.on('message', (message: ToRuntime) => {
  try {
    const op = ops[message.op] as (...args: unknown[]) => unknown;
    send({ kind: 'reply', id: message.id, ok: true, value: op(...message.args) });
  } catch (error) {
    send({ kind: 'reply', id: message.id, ok: false, error: String(error) });
  }
});

const { main } = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { main: string };
try {
  await import(pathToFileURL(join(appDir, main)).href);
} catch (error) {
  process.emit('uncaughtException', error as Error);
}
electron.becomeReady();
