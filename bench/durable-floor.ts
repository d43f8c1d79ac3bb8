// The durable floor of bench:engine: the least a peer can do to keep each message as the history
// promises (docs/DURABILITY.md), with none of the engine's code. One SQLite commit per message,
// WAL with synchronous NORMAL, 1 KB pages and SQLite's own checkpoints off as in the history, and
// a unique (msg_id, sender) key, which a retried SEND needs to be recognised. A raw peer that
// stores each message this way before its ACK (or before its SEND goes) shows what the durability
// costs by itself on this machine; the engine's distance from it is the engine's own cost.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

export class DurableFloor {
  private readonly dir = mkdtempSync(join(tmpdir(), 'chatp2p-bench-durable-'));
  private readonly db = new DatabaseSync(join(this.dir, 'floor.sqlite'));
  private readonly insert: StatementSync;

  constructor() {
    this.db.exec(`PRAGMA page_size = 1024;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA wal_autocheckpoint = 0;
      CREATE TABLE messages (seq INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE UNIQUE INDEX messages_identity ON messages (msg_id, sender);`);
    this.insert = this.db.prepare('INSERT INTO messages (msg_id, sender, text, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
  }

  /** Commits one message: on return it survives a kill of this process. */
  store(msgId: string, sender: string, text: string): void {
    this.db.exec('BEGIN');
    this.insert.run(msgId, sender, text, Date.now());
    this.db.exec('COMMIT');
  }

  close(): void {
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
