// The message history in one SQLite file per profile (node:sqlite, WAL): every message sent and
// received, the durable outbox (our DMs until delivered or cancelled), read positions, and an
// FTS5 index for accent-insensitive search.
//
// Durability (docs/DURABILITY.md): each commit goes to the WAL with synchronous NORMAL before a
// message is ACKed or sendDirect returns, so it survives a crash or kill of the process; an fsync
// of the WAL follows within SYNC_WITHIN_MS (off the event loop), and a checkpoint at close, so a
// power loss or an OS crash can take at most the last 100 ms. Redis's `appendfsync everysec`, tighter.

import { createHistogram } from 'node:perf_hooks';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { FileTransfer, IncomingMessage, OutgoingMessage } from '../api.ts';
import { GroupCommit, closeDatabase, openDatabase, type SchemaSpec } from './sqlite-file.ts';
import {
  StoreError,
  conversationOf,
  type ConversationKey,
  type ConversationRow,
  type HistoryPage,
  type HistoryQuery,
  type MessageStore,
  type PinnedKey,
  type SearchHit,
  type StoredMessage,
} from './store.ts';

/** The most a power loss can take: 100 ms promised, half of it so that a busy loop still keeps it. */
export const SYNC_WITHIN_MS = 50;

/** A stored message is findable by search within this (and at once by a search that runs before). */
const INDEX_WITHIN_MS = 200;
/** Messages indexed per step, so that a long backlog does not hold the event loop. */
const INDEX_BATCH = 100;
/**
 * Pages of FTS5 segment merging per step (a term's entries are merged whole, so a common word's
 * may take more). FTS5's own merging (automerge, off in this file since migration 10) ran inside
 * the commit of whichever step crossed its thresholds: 15-20 ms idle, up to 515 ms under load.
 */
const MERGE_PAGES = 16;

export const HISTORY_SCHEMA: SchemaSpec = {
  // 'CP2H' marks the file as a ChatP2P history, so a foreign SQLite database is refused.
  applicationId: 0x43503248,
  description: 'message history file',
  holder: 'ChatP2P process (the app or a terminal client on this profile)',
  synchronous: 'NORMAL',
  syncWithinMs: SYNC_WITHIN_MS,
  // Every message is its own commit, which writes each page it touches whole into the WAL: with
  // 1 KB pages rather than SQLite's 4 KB a received DM takes about 5.7 KB of WAL instead of 15.7,
  // and its commit and the checkpoints behind it cost about half; rows of a few hundred bytes
  // still fit several to a page.
  pageSize: 1024,
  // A checkpoint copies many MB and fsyncs the database file: never on the event loop that ACKs.
  checkpointInWorker: true,
  migrations: [
    // 1: messages, in the order we stored them (`seq`), and how far each conversation was read.
    `CREATE TABLE messages (
       seq INTEGER PRIMARY KEY,
       conversation TEXT NOT NULL,
       msg_id TEXT NOT NULL,
       direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
       kind TEXT NOT NULL CHECK (kind IN ('dm', 'pub')),
       sender TEXT NOT NULL,
       recipient TEXT NOT NULL,
       text TEXT NOT NULL,
       at INTEGER NOT NULL,
       sent_at INTEGER,
       claimed_src TEXT,
       state TEXT,
       attempts INTEGER NOT NULL DEFAULT 0,
       error TEXT,
       recipients INTEGER
     );
     -- A peer's msg_id is stored once: retries and restarts are recognised as duplicates.
     CREATE UNIQUE INDEX messages_identity ON messages (msg_id, sender);
     CREATE INDEX messages_conversation ON messages (conversation, seq);
     CREATE INDEX messages_incoming ON messages (conversation, seq) WHERE direction = 'in';
     CREATE INDEX messages_outbox ON messages (conversation, seq)
       WHERE direction = 'out' AND kind = 'dm' AND state IN ('queued', 'sent');
     CREATE TABLE conversations (
       key TEXT PRIMARY KEY,
       read_seq INTEGER NOT NULL DEFAULT 0,
       last_seq INTEGER NOT NULL
     ) WITHOUT ROWID;`,
    // 2: full-text search. unicode61 with remove_diacritics folds case and accents ("joao" finds
    // "João"); the prefix indexes make word-start queries ("mens" finds "mensagem") cheap.
    `CREATE VIRTUAL TABLE messages_fts USING fts5 (
       text, content = 'messages', content_rowid = 'seq',
       tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
     );
     INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
     CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
       INSERT INTO messages_fts (rowid, text) VALUES (new.seq, new.text);
     END;
     CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
       INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
     END;`,
    // 3: whose history this is. Its outbox is sent as that peer_id, so no other may open it.
    `CREATE TABLE owner (peer_id TEXT NOT NULL);`,
    // 4: search indexing leaves the commit that stores a message (it was most of its cost) and
    // follows within INDEX_WITHIN_MS; `search_progress` is the last seq indexed, so what a crash
    // left unindexed is indexed on the next open. Until then the index was complete.
    `DROP TRIGGER messages_fts_insert;
     CREATE TABLE search_progress (indexed_seq INTEGER NOT NULL);
     INSERT INTO search_progress (indexed_seq) SELECT coalesce(max(seq), 0) FROM messages;`,
    // 5: chatp2p-secure (docs/SECURE.md). The identity key pinned for each peer_id on its first
    // secure session (trust on first use), whether the user compared safety numbers, and a different
    // key a later session showed, until the user accepts it; messages from a connection that could
    // not prove the pinned key are marked `unverified`.
    `CREATE TABLE peer_keys (
       peer_id TEXT PRIMARY KEY,
       key TEXT NOT NULL,
       pinned_at INTEGER NOT NULL,
       verified INTEGER NOT NULL DEFAULT 0,
       offered_key TEXT
     ) WITHOUT ROWID;
     ALTER TABLE messages ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0;`,
    // 6: two fewer pages in the commit of every message (it wrote about 5.6). A conversation's
    // last message is read from messages_conversation (max seq) rather than rewritten per message,
    // and the incoming-only index goes: unread counts are counted once and then kept in memory.
    `DROP INDEX messages_incoming;
     ALTER TABLE conversations DROP COLUMN last_seq;`,
    // 7: file transfers (chatp2p-files): each offer and how far it got, so that a transfer
    // resumes from its last written offset after a dropped connection or a restart.
    `CREATE TABLE file_transfers (
       id TEXT NOT NULL,
       direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
       peer_id TEXT NOT NULL,
       name TEXT NOT NULL,
       size INTEGER NOT NULL,
       media_type TEXT NOT NULL,
       sha256 TEXT NOT NULL,
       state TEXT NOT NULL,
       offset INTEGER NOT NULL,
       path TEXT,
       error TEXT,
       at INTEGER NOT NULL,
       expires_at INTEGER NOT NULL,
       PRIMARY KEY (id, direction, peer_id)
     );`,
    // 8: chatp2p-receipts. The msg_id a DM answers (`reply_to`); a DM the peer read has the state
    // `read`, which the text column already holds.
    `ALTER TABLE messages ADD COLUMN reply_to TEXT;`,
    // 9: chatp2p-secure's unverified DMs leave the peer's chat for one apart (`dm-unverified:<peer_id>`),
    // read as far as that chat was; a chat they alone made goes with them.
    `INSERT OR IGNORE INTO conversations (key, read_seq)
       SELECT 'dm-unverified:' || substr(m.conversation, 4), coalesce(c.read_seq, 0)
       FROM messages m LEFT JOIN conversations c ON c.key = m.conversation
       WHERE m.unverified = 1 AND m.kind = 'dm' AND m.direction = 'in' AND m.conversation LIKE 'dm:%'
       GROUP BY m.conversation;
     UPDATE messages SET conversation = 'dm-unverified:' || substr(conversation, 4)
       WHERE unverified = 1 AND kind = 'dm' AND direction = 'in' AND conversation LIKE 'dm:%';
     DELETE FROM conversations
       WHERE key LIKE 'dm:%' AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation = key)
         AND EXISTS (SELECT 1 FROM conversations u WHERE u.key = 'dm-unverified:' || substr(conversations.key, 4));`,
    // 10: the search index's segments are merged by the store, MERGE_PAGES per step (mergeStep),
    // rather than by FTS5 itself within a commit, where one merge held the event loop for 515 ms.
    `INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 0);`,
  ],
};

interface Row {
  seq: number;
  conversation: string;
  msg_id: string;
  direction: 'in' | 'out';
  kind: 'dm' | 'pub';
  sender: string;
  recipient: string;
  text: string;
  at: number;
  sent_at: number | null;
  claimed_src: string | null;
  state: OutgoingMessage['state'] | null;
  attempts: number;
  error: string | null;
  recipients: number | null;
  unverified: number;
  reply_to: string | null;
}

const COLUMNS = 'seq, conversation, msg_id, direction, kind, sender, recipient, text, at, sent_at, claimed_src, state, attempts, error, recipients, unverified, reply_to';
// Marks around the matched words in a snippet: characters no typed text carries.
const MATCH_START = '\u{F0000}';
const MATCH_END = '\u{F0001}';

/**
 * Opens the history at `path` (':memory:' for one that ends with the process). `synchronous`
 * FULL (an fsync per commit) is for comparing against, as bench:engine does.
 */
export function openMessageStore(path: string, onError: (err: Error) => void = () => undefined, options: { synchronous?: 'FULL' | 'NORMAL' } = {}): SqliteMessageStore {
  // FULL is what we did before: exclusive, SQLite's own checkpoints.
  const spec = options.synchronous === 'FULL' ? { ...HISTORY_SCHEMA, synchronous: 'FULL' as const, syncWithinMs: undefined, checkpointInWorker: false } : HISTORY_SCHEMA;
  const durable = spec.syncWithinMs === undefined || path === ':memory:' ? undefined : { withinMs: spec.syncWithinMs, path };
  return new SqliteMessageStore(openDatabase(path, spec, StoreError), onError, durable);
}

export class SqliteMessageStore implements MessageStore {
  private readonly db: DatabaseSync;
  private readonly batch: GroupCommit;
  private readonly stmt: Record<
    | 'insert'
    | 'addConversation'
    | 'update'
    | 'hasIncoming'
    | 'outgoing'
    | 'pending'
    | 'latest'
    | 'before'
    | 'after'
    | 'search'
    | 'conversations'
    | 'unread'
    | 'bySeq'
    | 'hasUnread'
    | 'markRead'
    | 'deleteMessage'
    | 'deleteMessages'
    | 'deleteConversation'
    | 'indexed'
    | 'toIndex'
    | 'index'
    | 'setIndexed'
    | 'merge'
    | 'changes'
    | 'peerKey'
    | 'peerKeys'
    | 'savePeerKey'
    | 'saveTransfer'
    | 'transfers',
    StatementSync
  >;
  private indexTimer: NodeJS.Timeout | undefined;
  /** When the oldest message not yet in the search index was stored (performance.now()). */
  private unindexedSince: number | undefined;
  /** The index may have segments to merge: it was written since the last merge step that found none. */
  private mergeDue = true;
  /** How long each background step of the index held the event loop, in µs. */
  private readonly indexSteps = createHistogram();
  /** Conversations known to have their row, so that a message adds one only to a new conversation. */
  private readonly known = new Set<ConversationKey>();
  /**
   * Unread counts, each counted once (on the first list that needs it) and then kept as messages
   * come and conversations are read: without an incoming-only index a count walks every message
   * after the last one read.
   */
  private readonly unread = new Map<ConversationKey, number>();

  constructor(db: DatabaseSync, onError: (err: Error) => void, durable?: { withinMs: number; path: string }) {
    this.db = db;
    this.batch = new GroupCommit(
      db,
      (err) => {
        // A failed commit may have taken rows with it: each conversation's is added again.
        this.known.clear();
        this.unread.clear();
        onError(err);
      },
      durable,
    );
    const select = `SELECT ${COLUMNS} FROM messages`;
    const q = (sql: string) => db.prepare(sql);
    this.stmt = {
      insert: q(
        // A duplicate is found by the insert itself (messages_identity): no lookup before each one.
        `INSERT INTO messages (conversation, msg_id, direction, kind, sender, recipient, text, at, sent_at, claimed_src, state, attempts, error, recipients, unverified, reply_to)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id, sender) DO NOTHING`,
      ),
      addConversation: q('INSERT OR IGNORE INTO conversations (key) VALUES (?)'),
      update: q('UPDATE messages SET state = ?, attempts = ?, error = ?, recipients = ? WHERE seq = ?'),
      hasIncoming: q("SELECT 1 AS found FROM messages WHERE msg_id = ? AND sender = ? AND direction = 'in'"),
      outgoing: q(`${select} WHERE msg_id = ? AND direction = 'out'`),
      pending: q(`${select} WHERE direction = 'out' AND kind = 'dm' AND state IN ('queued', 'sent') ORDER BY seq`),
      latest: q(`${select} WHERE conversation = ? ORDER BY seq DESC LIMIT ?`),
      before: q(`${select} WHERE conversation = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      after: q(`${select} WHERE conversation = ? AND seq > ? ORDER BY seq ASC LIMIT ?`),
      search: q(
        `SELECT ${COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')},
           snippet(messages_fts, 0, '${MATCH_START}', '${MATCH_END}', '…', 16) AS snippet
         FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
         WHERE messages_fts MATCH ? ORDER BY messages_fts.rowid DESC LIMIT ?`,
      ),
      conversations: q(
        `SELECT c.key, (SELECT max(seq) FROM messages m WHERE m.conversation = c.key) AS last_seq,
           (SELECT count(*) FROM messages o WHERE o.conversation = c.key AND o.direction = 'out' AND o.kind = 'dm' AND o.state IN ('queued', 'sent')) AS queued,
           (SELECT min(seq) FROM messages u WHERE u.conversation = c.key AND u.direction = 'in' AND u.seq > c.read_seq) AS first_unread
         FROM conversations c`,
      ),
      unread: q(
        `SELECT count(*) AS n FROM conversations c JOIN messages u ON u.conversation = c.key
         WHERE c.key = ? AND u.direction = 'in' AND u.seq > c.read_seq`,
      ),
      bySeq: q(`${select} WHERE seq = ?`),
      hasUnread: q(
        `SELECT 1 AS found FROM conversations c WHERE c.key = ?
           AND EXISTS (SELECT 1 FROM messages u WHERE u.conversation = c.key AND u.direction = 'in' AND u.seq > c.read_seq AND u.seq <= ?)`,
      ),
      // Read up to a seq (the newest message by default), never backwards.
      markRead: q('UPDATE conversations SET read_seq = max(read_seq, min(coalesce((SELECT max(seq) FROM messages WHERE conversation = ?2), 0), ?1)) WHERE key = ?2'),
      deleteMessage: q('DELETE FROM messages WHERE conversation = ? AND seq = ?'),
      deleteMessages: q('DELETE FROM messages WHERE conversation = ?'),
      deleteConversation: q('DELETE FROM conversations WHERE key = ?'),
      indexed: q('SELECT indexed_seq FROM search_progress'),
      toIndex: q('SELECT count(*) AS n, max(seq) AS last FROM (SELECT seq FROM messages WHERE seq > ? ORDER BY seq LIMIT ?)'),
      index: q('INSERT INTO messages_fts (rowid, text) SELECT seq, text FROM messages WHERE seq > ? AND seq <= ?'),
      setIndexed: q('UPDATE search_progress SET indexed_seq = ?'),
      // With a positive N, FTS5 merges only a level of `usermerge` (4) segments or one it began.
      merge: q(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', ${MERGE_PAGES})`),
      changes: q('SELECT total_changes() AS n'),
      peerKey: q('SELECT peer_id, key, pinned_at, verified, offered_key FROM peer_keys WHERE peer_id = ?'),
      peerKeys: q('SELECT peer_id, key, pinned_at, verified, offered_key FROM peer_keys ORDER BY peer_id'),
      savePeerKey: q(
        `INSERT INTO peer_keys (peer_id, key, pinned_at, verified, offered_key) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (peer_id) DO UPDATE SET key = excluded.key, pinned_at = excluded.pinned_at, verified = excluded.verified, offered_key = excluded.offered_key`,
      ),
      saveTransfer: q(
        `INSERT OR REPLACE INTO file_transfers (id, direction, peer_id, name, size, media_type, sha256, state, offset, path, error, at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      transfers: q('SELECT * FROM file_transfers ORDER BY at, rowid'),
    };
    // What a crash left unindexed; the merging it calls for (and any an earlier run left) follows.
    this.indexAll();
    this.batch.commit();
  }

  /** Adds up to INDEX_BATCH messages stored since the last step to the search index; how many. */
  private indexStep(): number {
    const from = Number((this.stmt.indexed.get() as { indexed_seq: number }).indexed_seq);
    const { n, last } = this.stmt.toIndex.get(from, INDEX_BATCH) as { n: number; last: number | null };
    if (last === null) return 0;
    this.batch.run(() => {
      this.stmt.index.run(from, last);
      this.stmt.setIndexed.run(last);
    });
    this.mergeDue = true;
    return Number(n);
  }

  /** Merges up to MERGE_PAGES pages of the index's segments; mergeDue stays while it finds some. */
  private mergeStep(): void {
    const changes = () => Number((this.stmt.changes.get() as { n: number }).n);
    const before = changes();
    this.batch.run(() => this.stmt.merge.run());
    // The command itself is one change; each page it writes is more.
    this.mergeDue = changes() - before > 1;
  }

  /** Indexes everything stored: before a search reads the index, and before a delete edits it. */
  private indexAll(): void {
    while (this.indexStep() === INDEX_BATCH);
    this.unindexedSince = undefined;
    // The merging it calls for is left to the background steps (a large backlog, as after a
    // crash, leaves more segments until then: FTS5 flushes one per MB, and merges only at 16).
    this.scheduleIndex();
  }

  /**
   * The index's background work, one step per timer turn so that what reaches the sockets is
   * answered between steps: the messages stored INDEX_WITHIN_MS ago and since, then merging.
   */
  private scheduleIndex(): void {
    if (this.indexTimer !== undefined) return;
    const indexIn = this.unindexedSince === undefined ? undefined : Math.max(0, this.unindexedSince + INDEX_WITHIN_MS - performance.now());
    const delay = this.mergeDue ? 0 : indexIn;
    if (delay === undefined) return;
    this.indexTimer = setTimeout(() => this.backgroundStep(), delay);
    this.indexTimer.unref();
  }

  private backgroundStep(): void {
    this.indexTimer = undefined;
    if (!this.db.isOpen) return;
    const started = performance.now();
    if (this.unindexedSince !== undefined && started - this.unindexedSince >= INDEX_WITHIN_MS) {
      // A full batch may have left more: the next step indexes again, before any merging.
      if (this.indexStep() < INDEX_BATCH) this.unindexedSince = undefined;
    } else if (this.mergeDue) this.mergeStep();
    // At once: a transaction left open until the next turn would hold back every ACK due
    // meanwhile, and release them all in one burst.
    this.batch.commit();
    this.indexSteps.record(Math.max(1, Math.round((performance.now() - started) * 1000)));
    this.scheduleIndex();
  }

  claim(peerId: string): void {
    const owner = this.db.prepare('SELECT peer_id FROM owner').get() as { peer_id: string } | undefined;
    if (owner && owner.peer_id !== peerId) throw new StoreError(`this history belongs to ${owner.peer_id}, not ${peerId}`);
    if (owner) return;
    this.batch.run(() => this.db.prepare('INSERT INTO owner (peer_id) VALUES (?)').run(peerId));
    this.batch.commit();
  }

  addOutgoing(message: OutgoingMessage, from: string): OutgoingMessage {
    const seq = this.insert({ direction: 'out', ...message, from });
    if (seq === undefined) throw new StoreError(`cannot save the message: ${message.msgId} is already stored`);
    const stored = { ...message, seq };
    // Accepted from the user: on disk before the caller may show it as sent.
    const error = this.batch.commit();
    if (error) throw new StoreError(`cannot save the message: ${error.message}`);
    return stored;
  }

  updateOutgoing(message: OutgoingMessage): void {
    this.batch.run(() => this.stmt.update.run(message.state, message.attempts, message.error ?? null, message.recipients ?? null, message.seq));
  }

  addIncoming(message: Omit<IncomingMessage, 'seq'>): IncomingMessage | undefined {
    const seq = this.insert({ direction: 'in', ...message, seq: 0 });
    return seq === undefined ? undefined : { ...message, seq };
  }

  whenDurable(callback: (err?: Error) => void): void {
    this.batch.whenCommitted(callback);
  }

  /** Runs `callback` once everything committed so far is fsynced (survives a power loss). */
  whenSynced(callback: () => void): void {
    this.batch.whenSynced(callback);
  }

  /**
   * fsyncs of the WAL and checkpoints made while open (not the one at close), and the background
   * steps of the search index (they run on the event loop): how many, their p99 and the longest.
   */
  get syncStats(): Readonly<GroupCommit['stats'] & { indexSteps: number; indexStepP99Ms: number; longestIndexStepMs: number }> {
    const steps = this.indexSteps;
    return { ...this.batch.stats, indexSteps: steps.count, indexStepP99Ms: steps.count && steps.percentile(99) / 1000, longestIndexStepMs: steps.count && steps.max / 1000 };
  }

  hasIncoming(from: string, msgId: string): boolean {
    return this.stmt.hasIncoming.get(msgId, from) !== undefined;
  }

  pendingOutgoing(): OutgoingMessage[] {
    return this.rows(this.stmt.pending.all()).map(outgoingOf);
  }

  outgoing(msgId: string): OutgoingMessage | undefined {
    const row = this.stmt.outgoing.get(msgId) as Row | undefined;
    return row && outgoingOf(toStored(row));
  }

  saveTransfer(t: FileTransfer): void {
    this.batch.run(() =>
      this.stmt.saveTransfer.run(t.id, t.direction, t.peerId, t.name, t.size, t.mediaType, t.sha256, t.state, t.offset, t.path ?? null, t.error ?? null, t.at, t.expiresAt),
    );
  }

  transfers(): FileTransfer[] {
    return (this.stmt.transfers.all() as Record<string, string | number | null>[]).map((r) => ({
      id: String(r.id),
      direction: r.direction === 'in' ? 'in' : 'out',
      peerId: String(r.peer_id),
      name: String(r.name),
      size: Number(r.size),
      mediaType: String(r.media_type),
      sha256: String(r.sha256),
      state: r.state as FileTransfer['state'],
      offset: Number(r.offset),
      path: r.path === null ? undefined : String(r.path),
      error: r.error === null ? undefined : String(r.error),
      at: Number(r.at),
      expiresAt: Number(r.expires_at),
      bytesPerSecond: undefined,
    }));
  }

  page(conversation: ConversationKey, query: HistoryQuery): HistoryPage {
    const limit = Math.max(1, Math.floor(query.limit));
    const older = (seq: number | undefined, n: number) =>
      this.rows(seq === undefined ? this.stmt.latest.all(conversation, n + 1) : this.stmt.before.all(conversation, seq, n + 1));
    const newer = (seq: number, n: number) => this.rows(this.stmt.after.all(conversation, seq, n + 1));
    if (query.around !== undefined) {
      const half = Math.floor(limit / 2);
      const up = older(query.around + 1, half + 1);
      const down = newer(query.around, limit - half - 1);
      return {
        messages: [...up.slice(0, half + 1).reverse(), ...down.slice(0, limit - half - 1)],
        hasOlder: up.length > half + 1,
        hasNewer: down.length > limit - half - 1,
      };
    }
    if (query.after !== undefined) {
      const down = newer(query.after, limit);
      return { messages: down.slice(0, limit), hasOlder: true, hasNewer: down.length > limit };
    }
    const up = older(query.before, limit);
    return { messages: up.slice(0, limit).reverse(), hasOlder: up.length > limit, hasNewer: query.before !== undefined };
  }

  search(text: string, limit: number): SearchHit[] {
    const match = ftsQuery(text);
    if (match === undefined) return [];
    this.indexAll();
    return (this.stmt.search.all(match, limit) as unknown as (Row & { snippet: string })[]).map((row) => {
      const message = toStored(row);
      return { conversation: row.conversation, seq: row.seq, message, parts: snippetParts(row.snippet) };
    });
  }

  conversations(): ConversationRow[] {
    const rows = this.stmt.conversations.all() as { key: string; last_seq: number | null; queued: number; first_unread: number | null }[];
    return rows.map((r) => {
      const last = r.last_seq === null ? undefined : (this.stmt.bySeq.get(r.last_seq) as Row | undefined);
      return { key: r.key, unread: this.unreadIn(r.key), queued: r.queued, firstUnread: r.first_unread ?? undefined, last: last && toStored(last) };
    });
  }

  markRead(conversation: ConversationKey, upTo = Number.MAX_SAFE_INTEGER): boolean {
    if (this.stmt.hasUnread.get(conversation, upTo) === undefined) return false;
    this.batch.run(() => this.stmt.markRead.run(upTo, conversation));
    // Read only up to a message: what is left is counted again when asked.
    this.unread.delete(conversation);
    return true;
  }

  deleteMessage(conversation: ConversationKey, seq: number): boolean {
    // As for a conversation: the index's delete trigger needs the message's words indexed first
    // (its delete entries are merged later, as the indexing's are).
    this.mergeDue = true;
    this.indexAll();
    const deleted = this.batch.run(() => Number(this.stmt.deleteMessage.run(conversation, seq).changes) > 0);
    this.unread.delete(conversation);
    this.batch.commit();
    return deleted;
  }

  private unreadIn(conversation: ConversationKey): number {
    let n = this.unread.get(conversation);
    if (n === undefined) {
      n = Number((this.stmt.unread.get(conversation) as { n: number }).n);
      this.unread.set(conversation, n);
    }
    return n;
  }

  deleteConversation(conversation: ConversationKey): void {
    // The index's delete trigger removes each message's words, which must be there to remove.
    this.mergeDue = true;
    this.indexAll();
    this.batch.run(() => {
      this.stmt.deleteMessages.run(conversation);
      this.stmt.deleteConversation.run(conversation);
    });
    this.known.delete(conversation);
    this.unread.delete(conversation);
    this.batch.commit();
  }

  peerKey(peerId: string): PinnedKey | undefined {
    const row = this.stmt.peerKey.get(peerId) as PeerKeyRow | undefined;
    return row && pinnedKeyOf(row);
  }

  peerKeys(): PinnedKey[] {
    return (this.stmt.peerKeys.all() as unknown as PeerKeyRow[]).map(pinnedKeyOf);
  }

  savePeerKey(pin: PinnedKey): void {
    this.batch.run(() => this.stmt.savePeerKey.run(pin.peerId, pin.key, pin.pinnedAt, pin.verified ? 1 : 0, pin.offeredKey ?? null));
    // A pin decides whom our outbox goes to: on disk before anything is sent on its strength.
    const error = this.batch.commit();
    if (error) throw new StoreError(`cannot save the key of ${pin.peerId}: ${error.message}`);
  }

  close(): void {
    if (!this.db.isOpen) return;
    this.indexAll();
    clearTimeout(this.indexTimer);
    this.batch.sync();
    closeDatabase(this.db);
  }

  /** The new message's seq; undefined when its (msg_id, sender) is already stored. */
  private insert(m: StoredMessage): number | undefined {
    const out = m.direction === 'out' ? m : undefined;
    const inc = m.direction === 'in' ? m : undefined;
    const conversation = conversationOf(m);
    return this.batch.run(() => {
      const result = this.stmt.insert.run(
        conversation,
        m.msgId,
        m.direction,
        m.kind,
        m.from,
        m.to,
        m.text,
        out ? out.createdAt : inc!.receivedAt,
        inc?.sentAt ?? null,
        inc?.claimedSrc ?? null,
        out?.state ?? null,
        out?.attempts ?? 0,
        out?.error ?? null,
        out?.recipients ?? null,
        inc?.unverified ? 1 : 0,
        m.replyTo ?? null,
      );
      if (Number(result.changes) === 0) return undefined;
      const seq = Number(result.lastInsertRowid);
      if (!this.known.has(conversation)) {
        this.stmt.addConversation.run(conversation);
        this.known.add(conversation);
      }
      const unread = this.unread.get(conversation);
      if (inc && unread !== undefined) this.unread.set(conversation, unread + 1);
      this.unindexedSince ??= performance.now();
      this.scheduleIndex();
      return seq;
    });
  }

  private rows(rows: unknown[]): StoredMessage[] {
    return (rows as Row[]).map(toStored);
  }
}

function toStored(r: Row): StoredMessage {
  const common = { seq: r.seq, msgId: r.msg_id, kind: r.kind, from: r.sender, to: r.recipient, text: r.text, ...(r.reply_to === null ? {} : { replyTo: r.reply_to }) };
  if (r.direction === 'out') {
    return {
      direction: 'out',
      ...common,
      state: r.state ?? 'sent',
      attempts: r.attempts,
      createdAt: r.at,
      error: r.error ?? undefined,
      recipients: r.recipients ?? undefined,
    };
  }
  return {
    direction: 'in',
    ...common,
    receivedAt: r.at,
    sentAt: r.sent_at ?? undefined,
    claimedSrc: r.claimed_src ?? undefined,
    ...(r.unverified ? { unverified: true as const } : {}),
  };
}

interface PeerKeyRow {
  peer_id: string;
  key: string;
  pinned_at: number;
  verified: number;
  offered_key: string | null;
}

function pinnedKeyOf(r: PeerKeyRow): PinnedKey {
  return { peerId: r.peer_id, key: r.key, pinnedAt: r.pinned_at, verified: r.verified === 1, offeredKey: r.offered_key ?? undefined };
}

function outgoingOf(m: StoredMessage): OutgoingMessage {
  if (m.direction !== 'out') throw new StoreError(`message ${m.seq} is not ours`);
  const { direction: _direction, from: _from, ...message } = m;
  return message;
}

/**
 * The user's words as an FTS5 query: every word must appear, each matching word starts ("joa"
 * finds "João"). Only letters and digits pass, so nothing typed is read as FTS5 syntax.
 *
 * A one-letter word matches only itself ("o joão" finds the article "o", not every word starting
 * with o): as a word start it would match most of the history, and with no prefix index that
 * short FTS5 reads every such word's entries (100-200 ms at a million messages, against ~1 ms).
 */
export function ftsQuery(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}]+/gu);
  if (!words) return undefined;
  return words.map((w) => ([...w].length > 1 ? `"${w}"*` : `"${w}"`)).join(' ');
}

function snippetParts(snippet: string): SearchHit['parts'] {
  const parts: SearchHit['parts'] = [];
  for (const [i, chunk] of snippet.split(MATCH_START).entries()) {
    const [match, rest] = i === 0 ? [undefined, chunk] : chunk.split(MATCH_END, 2);
    if (match) parts.push({ text: match, match: true });
    if (rest) parts.push({ text: rest, match: false });
  }
  return parts;
}
