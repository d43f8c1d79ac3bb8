// Unsent text per conversation, kept in the profile's folder next to its history (drafts.json),
// so a draft survives a chat switch, a restart and a crash. The file is replaced atomically.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConversationId } from '../../src-shared/chat-api.ts';
import { isConversationId } from './settings.ts';

/** More drafts than anyone keeps; a renderer asking for more is refused rather than filling the disk. */
export const MAX_DRAFTS = 1000;

export class Drafts {
  private readonly path: string;
  private readonly texts = new Map<ConversationId, string>();

  /** Reads what an earlier run left; a missing or unreadable file is an empty list (`problem` says why). */
  constructor(path: string, problem: (text: string) => void) {
    this.path = path;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problem(`Drafts ${path} cannot be read, starting without them: ${(err as Error).message}`);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problem(`Drafts ${path} is not a JSON object, starting without them`);
      return;
    }
    for (const [id, text] of Object.entries(parsed)) if (isConversationId(id) && typeof text === 'string' && text !== '') this.texts.set(id, text);
  }

  get(id: ConversationId): string | undefined {
    return this.texts.get(id);
  }

  ids(): ConversationId[] {
    return [...this.texts.keys()];
  }

  /** Whether `id` may get a draft: one it already has, or room for a new one. */
  hasRoomFor(id: ConversationId): boolean {
    return this.texts.has(id) || this.texts.size < MAX_DRAFTS;
  }

  /** Empty text forgets the draft. Returns whether anything changed (and was written). */
  set(id: ConversationId, text: string): boolean {
    if ((this.texts.get(id) ?? '') === text) return false;
    if (text === '') this.texts.delete(id);
    else this.texts.set(id, text);
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, JSON.stringify(Object.fromEntries(this.texts)));
    renameSync(`${this.path}.tmp`, this.path);
    return true;
  }

  delete(id: ConversationId): void {
    if (this.texts.has(id)) this.set(id, '');
  }
}
