import { expect, it } from 'vitest';
import { userDataDir } from '../../src-main/engine/data-dir.ts';

it("uses the folder Electron's app.getPath('userData') uses on each platform", () => {
  expect(userDataDir({}, 'linux', '/home/ana')).toBe('/home/ana/.config/ChatP2P');
  expect(userDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/ana')).toBe('/cfg/ChatP2P');
  expect(userDataDir({}, 'darwin', '/Users/ana')).toBe('/Users/ana/Library/Application Support/ChatP2P');
  expect(userDataDir({ APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ana')).toMatch(/Roaming[\\/]ChatP2P$/);
});
