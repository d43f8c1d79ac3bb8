// electron-store holds two independent keys: the service's settings and the window's state, which
// is the desktop's business only and so stays out of Settings.
import type { SettingsStore } from '../service/settings.ts';
import type { WindowState } from './window.ts';

export interface KeyValueStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export const SETTINGS_KEY = 'settings';
export const WINDOW_STATE_KEY = 'windowState';

export function settingsStore(store: KeyValueStore): SettingsStore {
  return { read: () => store.get(SETTINGS_KEY), write: (settings) => store.set(SETTINGS_KEY, settings) };
}

export function windowStateStore(store: KeyValueStore): { read(): unknown; write(state: WindowState): void } {
  return { read: () => store.get(WINDOW_STATE_KEY), write: (state) => store.set(WINDOW_STATE_KEY, state) };
}
