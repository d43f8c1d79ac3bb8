// The browser host's settings: one JSON file, replaced atomically so a crash never leaves half of it.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Settings } from '../../src-shared/chat-api.ts';
import type { SettingsStore } from '../service/settings.ts';

export function jsonFileSettingsStore(path: string): SettingsStore {
  return {
    read() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // Not JSON any more: the service starts from defaults and logs why.
        return text;
      }
    },
    write(settings: Settings) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, JSON.stringify(settings, null, 2) + '\n');
      renameSync(`${path}.tmp`, path);
    },
  };
}
