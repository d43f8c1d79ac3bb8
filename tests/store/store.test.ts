// The message history on real SQLite files in a temp folder: what survives reopening, search as a
// user types it, paging, and files that are not ours (or not healthy) being refused untouched.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IncomingMessage, OutgoingMessage } from '../../src-main/engine/api.ts';
import { HISTORY_SCHEMA, openMessageStore, type SqliteMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { StoreError } from '../../src-main/engine/store/store.ts';

const ME = 'ana@CIC';
let dir: string;
let path: string;
const open: SqliteMessageStore[] = [];

function store(): SqliteMessageStore {
  const s = openMessageStore(path);
  open.push(s);
  return s;
}

function reopen(s: SqliteMessageStore): SqliteMessageStore {
  s.close();
  return store();
}

let n = 0;
const incoming = (from: string, text: string, extra: Partial<IncomingMessage> = {}): Omit<IncomingMessage, 'seq'> => ({
  msgId: `in-${++n}`,
  kind: 'dm',
  from,
  to: ME,
  text,
  receivedAt: 1_700_000_000_000 + n,
  sentAt: undefined,
  claimedSrc: undefined,
  ...extra,
});

const outgoing = (to: string, text: string, state: OutgoingMessage['state'] = 'queued'): OutgoingMessage => ({
  seq: 0,
  msgId: `out-${++n}`,
  kind: 'dm',
  to,
  text,
  state,
  attempts: 0,
  createdAt: 1_700_000_000_000 + n,
  error: undefined,
  recipients: undefined,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-store-'));
  path = join(dir, 'history.sqlite');
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('history that outlives the app', () => {
  it('keeps messages, delivery states, unread counts and the outbox across reopening', async () => {
    let s = store();
    const mine = s.addOutgoing(outgoing('bob@CIC', 'oi bob'), ME);
    const waiting = s.addOutgoing(outgoing('bob@CIC', 'are you there?'), ME);
    s.addIncoming(incoming('bob@CIC', 'oi ana', { sentAt: 1_699_999_999_000, claimedSrc: 'mallory@CIC' }));
    s.addIncoming(incoming('carol@UnB', 'olá'));
    s.addIncoming({ ...incoming('bob@CIC', 'to everyone'), kind: 'pub', to: '*' });
    s.updateOutgoing({ ...mine, state: 'delivered', attempts: 1 });
    await new Promise<void>((resolve) => s.whenDurable(() => resolve()));
    s.markRead('dm:carol@UnB');

    s = reopen(s);
    const page = s.page('dm:bob@CIC', { limit: 10 });
    expect(page.messages.map((m) => [m.direction, m.from, m.text, m.direction === 'out' ? m.state : m.claimedSrc])).toEqual([
      ['out', ME, 'oi bob', 'delivered'],
      ['out', ME, 'are you there?', 'queued'],
      ['in', 'bob@CIC', 'oi ana', 'mallory@CIC'],
    ]);
    expect(page).toMatchObject({ hasOlder: false, hasNewer: false });
    const rows = Object.fromEntries(s.conversations().map((c) => [c.key, { unread: c.unread, queued: c.queued, last: c.last?.text }]));
    expect(rows).toEqual({
      'dm:bob@CIC': { unread: 1, queued: 1, last: 'oi ana' },
      'dm:carol@UnB': { unread: 0, queued: 0, last: 'olá' },
      '*': { unread: 1, queued: 0, last: 'to everyone' },
    });
    expect(s.pendingOutgoing().map((m) => m.msgId)).toEqual([waiting.msgId]);
    expect(s.hasIncoming('bob@CIC', page.messages[2]!.msgId)).toBe(true);
    expect(s.hasIncoming('carol@UnB', page.messages[2]!.msgId)).toBe(false);
  });

  it('fsyncs every commit soon after it, by itself', async () => {
    const s = store();
    s.addOutgoing(outgoing('bia@CIC', 'before the power cut'), ME);
    s.addIncoming(incoming('bia@CIC', 'and its answer'));
    const synced = new Promise<string>((resolve) => s.whenSynced(() => resolve('synced')));
    const late = new Promise<string>((resolve) => setTimeout(() => resolve('not synced within 2 s'), 2_000).unref());
    expect(await Promise.race([synced, late])).toBe('synced');
  });

  it('fsyncs a steady flood of commits on its timer, not one fsync after another', async () => {
    const s = store();
    // A commit in every event-loop turn for half a second, as a stop-and-wait peer's SENDs come.
    const until = performance.now() + 500;
    let commits = 0;
    while (performance.now() < until) {
      s.addOutgoing(outgoing('bia@CIC', `flood ${commits++}`), ME);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise<void>((resolve) => s.whenSynced(resolve));
    // One fsync per SYNC_WITHIN_MS (50 ms) at most, and the last one: a slow machine makes fewer.
    expect(commits).toBeGreaterThan(100);
    expect(s.syncStats.fsyncs).toBeGreaterThan(0);
    expect(s.syncStats.fsyncs).toBeLessThanOrEqual(500 / 50 + 2);
  });

  it('leaves every commit in the database file itself on close, none only in the WAL', () => {
    const s = store();
    s.addOutgoing(outgoing('bia@CIC', 'before quitting'), ME);
    s.addIncoming(incoming('bia@CIC', 'and its answer'));
    s.close();
    // What a power loss right after quitting leaves for sure: the database file without its WAL.
    const copy = join(dir, 'after-power-loss.sqlite');
    copyFileSync(path, copy);
    const db = new DatabaseSync(copy, { readOnly: true });
    const texts = (db.prepare('SELECT text FROM messages ORDER BY seq').all() as { text: string }[]).map((r) => r.text);
    db.close();
    expect(texts).toEqual(['before quitting', 'and its answer']);
  });

  it('moves a grown WAL into the database file by itself, off the event loop, without waiting for quit', async () => {
    const s = store();
    // Each accepted DM is its own commit: a few MB of WAL.
    const texts = Array.from({ length: 2000 }, (_, i) => `message ${i}`);
    for (const text of texts) s.addOutgoing(outgoing('bia@CIC', text), ME);
    // The app neither quits nor writes: soon the database file alone (what a power loss leaves
    // once the WAL starts over) holds every message.
    const copy = join(dir, 'after-power-loss.sqlite');
    const inCopy = () => {
      copyFileSync(path, copy);
      const db = new DatabaseSync(copy, { readOnly: true });
      try {
        return (db.prepare('SELECT text FROM messages ORDER BY seq').all() as { text: string }[]).map((r) => r.text);
      } catch {
        // Not even the schema is in the database file yet.
        return [];
      } finally {
        db.close();
      }
    };
    const deadline = Date.now() + 3_000;
    while (inCopy().length < texts.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(inCopy()).toEqual(texts);
    // The checkpointer thread did it; the event loop was never held for a checkpoint.
    expect(s.syncStats.passes).toBeGreaterThan(0);
    expect(s.syncStats.checkpoints).toBe(0);
  });

  it("stores a peer's msg_id once: the same SEND again, even after reopening, is not a second message", () => {
    let s = store();
    const first = incoming('bob@CIC', 'só uma vez');
    expect(s.addIncoming(first)).toMatchObject({ text: 'só uma vez' });
    expect(s.addIncoming({ ...first, text: 'again' })).toBeUndefined();
    // Another peer may use the same msg_id: it is its own message.
    expect(s.addIncoming({ ...first, from: 'carol@UnB' })).toBeDefined();
    s = reopen(s);
    expect(s.addIncoming(first)).toBeUndefined();
    expect(s.page('dm:bob@CIC', { limit: 10 }).messages.map((m) => m.text)).toEqual(['só uma vez']);
  });

  it('marks a conversation read once, and a new message makes it unread again', () => {
    const s = store();
    s.addIncoming(incoming('bob@CIC', 'um'));
    expect(s.markRead('dm:bob@CIC')).toBe(true);
    expect(s.markRead('dm:bob@CIC')).toBe(false);
    s.addIncoming(incoming('bob@CIC', 'dois'));
    expect(s.conversations()[0]).toMatchObject({ key: 'dm:bob@CIC', unread: 1 });
  });

  it('counts unread messages as they arrive after the list was shown, and the same after reopening', async () => {
    let s = store();
    s.addIncoming(incoming('bob@CIC', 'um'));
    expect(s.conversations()[0]).toMatchObject({ key: 'dm:bob@CIC', unread: 1 });
    s.addIncoming(incoming('bob@CIC', 'dois'));
    s.addOutgoing(outgoing('bob@CIC', 'oi'), ME);
    s.addIncoming(incoming('bob@CIC', 'três'));
    expect(s.conversations()[0]).toMatchObject({ unread: 3, last: { text: 'três' } });
    await new Promise<void>((resolve) => s.whenDurable(() => resolve()));
    s = reopen(s);
    expect(s.conversations()[0]).toMatchObject({ unread: 3, last: { text: 'três' } });
    s.markRead('dm:bob@CIC');
    s.addIncoming(incoming('bob@CIC', 'quatro'));
    expect(s.conversations()[0]).toMatchObject({ unread: 1 });
  });

  it('deletes a conversation with its messages and search entries, and nothing else', () => {
    const s = store();
    s.addIncoming(incoming('bob@CIC', 'segredo do bob'));
    s.addIncoming(incoming('carol@UnB', 'segredo da carol'));
    s.deleteConversation('dm:bob@CIC');
    expect(s.page('dm:bob@CIC', { limit: 10 }).messages).toEqual([]);
    expect(s.search('segredo', 10).map((h) => h.conversation)).toEqual(['dm:carol@UnB']);
    expect(s.conversations().map((c) => c.key)).toEqual(['dm:carol@UnB']);
  });

  it('deletes one message straight after storing it, before the search index has caught up', () => {
    const s = store();
    const kept = s.addIncoming(incoming('bob@CIC', 'fica aqui'))!;
    const gone = s.addIncoming(incoming('bob@CIC', 'apaga isto'))!;
    expect(s.deleteMessage('dm:bob@CIC', gone.seq)).toBe(true);
    expect(s.search('apaga', 10)).toEqual([]);
    expect(s.search('fica', 10).map((h) => h.message.seq)).toEqual([kept.seq]);
    expect(s.page('dm:bob@CIC', { limit: 10 }).messages.map((m) => m.text)).toEqual(['fica aqui']);
  });
});

describe('search', () => {
  it('ignores accents and case, matches word starts, needs every word, newest first', () => {
    const s = store();
    s.addIncoming(incoming('joao@CIC', 'Olá, aqui é o João'));
    s.addIncoming(incoming('bob@CIC', 'a MENSAGEM chegou?'));
    s.addIncoming(incoming('bob@CIC', 'joana mandou mensagens'));
    s.addIncoming({ ...incoming('bob@CIC', 'Ação no canal'), kind: 'pub', to: '#CIC' });

    const texts = (q: string) => s.search(q, 10).map((h) => h.message.text);
    expect(texts('joao')).toEqual(['Olá, aqui é o João']);
    expect(texts('JOÃO')).toEqual(['Olá, aqui é o João']);
    expect(texts('acao')).toEqual(['Ação no canal']);
    expect(texts('mensag')).toEqual(['joana mandou mensagens', 'a MENSAGEM chegou?']);
    expect(texts('jo mens')).toEqual(['joana mandou mensagens']);
    expect(texts('xyz')).toEqual([]);
    // A one-letter word is that word, not every word starting with it (as a prefix it would
    // match most of the history, slowly).
    expect(texts('o')).toEqual(['Olá, aqui é o João']);
    expect(texts('a mens')).toEqual(['a MENSAGEM chegou?']);
    const hit = s.search('joao', 10)[0]!;
    expect(hit.conversation).toBe('dm:joao@CIC');
    expect(hit.parts).toEqual([
      { text: 'Olá, aqui é o ', match: false },
      { text: 'João', match: true },
    ]);
    expect(s.search('canal', 10)[0]!.conversation).toBe('#CIC');
  });

  it('reads what the user typed as words, never as query syntax', () => {
    const s = store();
    s.addIncoming(incoming('bob@CIC', 'say "hi" OR NEAR(x) col:value -minus'));
    for (const q of ['"', 'OR', 'NEAR(', 'col:value', '-minus', '*', '(', "'); DROP TABLE messages; --"]) {
      expect(() => s.search(q, 10), q).not.toThrow();
    }
    expect(s.search('col:value', 10)).toHaveLength(1);
    expect(s.search('   ', 10)).toEqual([]);
    expect(s.page('dm:bob@CIC', { limit: 5 }).messages).toHaveLength(1);
  });
});

describe('paging', () => {
  it('opens at the latest page, scrolls back, and opens around a message in both directions', () => {
    const s = store();
    const seqs = Array.from({ length: 25 }, (_, i) => s.addIncoming(incoming('bob@CIC', `m${i}`))!.seq);
    s.addIncoming(incoming('carol@UnB', 'elsewhere'));
    const texts = (p: { messages: { text: string }[] }) => p.messages.map((m) => m.text);

    const latest = s.page('dm:bob@CIC', { limit: 10 });
    expect(texts(latest)).toEqual(['m15', 'm16', 'm17', 'm18', 'm19', 'm20', 'm21', 'm22', 'm23', 'm24']);
    expect(latest).toMatchObject({ hasOlder: true, hasNewer: false });

    const older = s.page('dm:bob@CIC', { before: latest.messages[0]!.seq, limit: 10 });
    expect(texts(older)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12', 'm13', 'm14']);
    const oldest = s.page('dm:bob@CIC', { before: older.messages[0]!.seq, limit: 10 });
    expect(texts(oldest)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(oldest.hasOlder).toBe(false);

    const around = s.page('dm:bob@CIC', { around: seqs[3]!, limit: 5 });
    expect(texts(around)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(around).toMatchObject({ hasOlder: true, hasNewer: true });
    const newer = s.page('dm:bob@CIC', { after: around.messages.at(-1)!.seq, limit: 30 });
    expect(texts(newer)).toEqual(Array.from({ length: 19 }, (_, i) => `m${i + 6}`));
    expect(newer.hasNewer).toBe(false);
  });
});

describe('files that are not ours, not healthy or not free', () => {
  it('refuses a foreign SQLite file and leaves it byte for byte', () => {
    const foreign = new DatabaseSync(path);
    foreign.exec("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me')");
    foreign.close();
    const before = readFileSync(path);
    expect(() => store()).toThrow(new StoreError(`${path} is not a ChatP2P message history file; refusing to modify it`));
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a file that is not a database at all, and leaves it', () => {
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    const before = readFileSync(path);
    expect(() => store()).toThrow(StoreError);
    expect(() => store()).toThrow(/cannot open message history file .*not a database/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a history written by a newer version', () => {
    store().close();
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${HISTORY_SCHEMA.migrations.length + 1}`);
    db.close();
    expect(() => store()).toThrow(`${path} was written by a newer ChatP2P (schema ${HISTORY_SCHEMA.migrations.length + 1}); refusing to modify it`);
  });

  it('refuses a second process on the same history, with a clear reason', () => {
    store().addIncoming(incoming('bob@CIC', 'mine'));
    expect(() => openMessageStore(path)).toThrow(`${path} is in use by another ChatP2P process (the app or a terminal client on this profile)`);
  });
});

describe('schema migrations', () => {
  it('creates the latest schema in an empty file', () => {
    store().close();
    const db = new DatabaseSync(path);
    const version = db.prepare('PRAGMA user_version').get() as { user_version: number };
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('messages', 'conversations', 'messages_fts')").all();
    db.close();
    expect(version.user_version).toBe(HISTORY_SCHEMA.migrations.length);
    expect(tables).toHaveLength(3);
  });

  it('completes a search index that a crash left behind its messages, on open', () => {
    const s = store();
    s.addIncoming(incoming('bob@CIC', 'indexada antes'));
    s.addIncoming(incoming('bob@CIC', 'quase perdida no índice'));
    s.close();
    // What a crash between a commit and its indexing leaves: the index behind the messages.
    const db = new DatabaseSync(path);
    db.exec("INSERT INTO messages_fts (messages_fts) VALUES ('delete-all'); UPDATE search_progress SET indexed_seq = 0");
    db.close();
    const again = store();
    const db2 = (again as unknown as { db: DatabaseSync }).db;
    expect(db2.prepare('SELECT indexed_seq FROM search_progress').get()).toEqual({ indexed_seq: 2 });
    expect(again.search('indice', 10).map((h) => h.message.text)).toEqual(['quase perdida no índice']);
    expect(again.search('indexada', 10)).toHaveLength(1);
  });

  it('indexes a stored message for search by itself, soon after its commit', async () => {
    const s = store();
    s.addIncoming(incoming('bob@CIC', 'procure por mim'));
    await new Promise<void>((resolve) => s.whenDurable(() => resolve()));
    const db = (s as unknown as { db: DatabaseSync }).db;
    const indexed = () => Number((db.prepare("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH 'procure'").get() as { n: number }).n);
    const deadline = Date.now() + 1_000;
    while (indexed() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(indexed()).toBe(1);
  });

  it('merges the search index in the background, so that a long history stays a few segments and every word is found', async () => {
    const s = store();
    // One commit, indexed in steps of 100: each step's commit leaves one more segment to merge.
    for (let i = 0; i < 3000; i++) s.addIncoming(incoming(`p${i % 5}@CIC`, `mensagem ${i} palavra${i % 97} ${i === 2999 ? 'ornitorrinco' : ''}`));
    await new Promise<void>((resolve) => s.whenDurable(() => resolve()));
    const db = (s as unknown as { db: DatabaseSync }).db;
    const indexed = () => Number((db.prepare('SELECT indexed_seq FROM search_progress').get() as { indexed_seq: number }).indexed_seq);
    const segments = () => Number((db.prepare('SELECT count(DISTINCT segid) AS n FROM messages_fts_idx').get() as { n: number }).n);
    const deadline = Date.now() + 10_000;
    // FTS5 keeps a level below 4 segments once merged (usermerge); unmerged, up to 15 (crisismerge 16).
    while ((indexed() < 3000 || segments() > 6) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(indexed()).toBe(3000);
    expect(segments()).toBeLessThanOrEqual(6);
    db.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
    expect(s.search('ornitorrinco', 10).map((h) => h.message.msgId)).toEqual([`in-${n}`]);
    expect(s.search('palavra42', 100)).toHaveLength(31);
  });

  it('goes on merging, after a restart, the segments an earlier run left unmerged', async () => {
    store().close();
    // What a run that stopped before its merging leaves: the index in many small segments.
    const raw = new DatabaseSync(path);
    for (let step = 0; step < 30; step++) {
      raw.exec('BEGIN');
      for (let i = 0; i < 100; i++) {
        raw.prepare("INSERT INTO messages (conversation, msg_id, direction, kind, sender, recipient, text, at) VALUES ('dm:bob@CIC', ?, 'in', 'dm', 'bob@CIC', ?, ?, 0)").run(`old-${step}-${i}`, ME, `antiga ${step} ${i}`);
      }
      raw.exec(`INSERT INTO messages_fts (rowid, text) SELECT seq, text FROM messages WHERE seq > ${step * 100}; UPDATE search_progress SET indexed_seq = ${(step + 1) * 100}; COMMIT`);
    }
    const segments = () => Number((raw.prepare('SELECT count(DISTINCT segid) AS n FROM messages_fts_idx').get() as { n: number }).n);
    expect(segments()).toBeGreaterThan(6);
    const s = store();
    const deadline = Date.now() + 10_000;
    while (segments() > 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(segments()).toBeLessThanOrEqual(6);
    raw.close();
    expect(s.search('antiga', 5000)).toHaveLength(3000);
  });

  it('brings a history from before search up to date, and finds its old messages', () => {
    // A file as the first schema left it, with messages in it.
    const db = new DatabaseSync(path);
    db.exec(HISTORY_SCHEMA.migrations[0]!);
    db.exec(`PRAGMA user_version = 1; PRAGMA application_id = ${HISTORY_SCHEMA.applicationId}`);
    db.prepare(
      `INSERT INTO messages (conversation, msg_id, direction, kind, sender, recipient, text, at) VALUES ('dm:bob@CIC', 'old-1', 'in', 'dm', 'bob@CIC', ?, 'lembra do São João?', 1)`,
    ).run(ME);
    db.prepare("INSERT INTO conversations (key, read_seq, last_seq) VALUES ('dm:bob@CIC', 0, 1)").run();
    db.close();

    const s = store();
    expect(s.search('sao joao', 10).map((h) => h.message.msgId)).toEqual(['old-1']);
    s.addIncoming(incoming('bob@CIC', 'e a quadrilha de são joão'));
    expect(s.search('joao', 10)).toHaveLength(2);
    expect(s.conversations()[0]).toMatchObject({ key: 'dm:bob@CIC', unread: 2 });
  });

  it('moves the unverified DMs an earlier schema kept in the peer\'s chat to a chat apart', () => {
    // A file as schema 8 left it: two DMs from bob@CIC's pinned key, one from an impostor, all read.
    const db = new DatabaseSync(path);
    for (const migration of HISTORY_SCHEMA.migrations.slice(0, 8)) db.exec(migration);
    db.exec(`PRAGMA user_version = 8; PRAGMA application_id = ${HISTORY_SCHEMA.applicationId}`);
    const add = db.prepare(
      `INSERT INTO messages (conversation, msg_id, direction, kind, sender, recipient, text, at, unverified) VALUES (?, ?, 'in', 'dm', ?, ?, ?, 1, ?)`,
    );
    add.run('dm:bob@CIC', 'real-1', 'bob@CIC', ME, 'oi, sou o bob', 0);
    add.run('dm:bob@CIC', 'fake-1', 'bob@CIC', ME, 'manda a senha', 1);
    add.run('dm:bob@CIC', 'real-2', 'bob@CIC', ME, 'tudo certo?', 0);
    add.run('dm:eve@CIC', 'fake-2', 'eve@CIC', ME, 'só impostor aqui', 1);
    db.exec("INSERT INTO conversations (key, read_seq) VALUES ('dm:bob@CIC', 3), ('dm:eve@CIC', 0)");
    db.close();

    const s = store();
    const texts = (key: string) => s.page(key, { limit: 10 }).messages.map((m) => m.text);
    expect(texts('dm:bob@CIC')).toEqual(['oi, sou o bob', 'tudo certo?']);
    expect(texts('dm-unverified:bob@CIC')).toEqual(['manda a senha']);
    expect(texts('dm-unverified:eve@CIC')).toEqual(['só impostor aqui']);
    const rows = new Map(s.conversations().map((c) => [c.key, c]));
    expect([...rows.keys()].sort()).toEqual(['dm-unverified:bob@CIC', 'dm-unverified:eve@CIC', 'dm:bob@CIC']);
    // What was read stays read; what was not stays unread.
    expect(rows.get('dm-unverified:bob@CIC')).toMatchObject({ unread: 0 });
    expect(rows.get('dm-unverified:eve@CIC')).toMatchObject({ unread: 1 });
    expect(s.search('senha', 10).map((h) => h.conversation)).toEqual(['dm-unverified:bob@CIC']);
  });
});
