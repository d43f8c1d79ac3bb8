import { join } from 'node:path';

/**
 * Where a profile keeps its history: one folder per peer_id under the data folder. Every
 * character a file system might refuse or fold (`/`, `:`, `*`, capitals on case-insensitive
 * disks, ...) is written as `%XX`, so two peer_ids never share a folder.
 */
export function historyPath(dataDir: string, peerId: string): string {
  const folder = [...peerId].map((c) => (/[a-z0-9@._-]/.test(c) ? c : [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''))).join('');
  return join(dataDir, 'profiles', folder, 'history.sqlite');
}
