// A crash loses nothing that was promised: a child process (crash-child.ts) runs an engine with a
// history file, sends DMs in a loop and is flooded with SENDs by two real peers, and is killed with
// SIGKILL, round after round on the same file. After each kill the file must open, pass SQLite's and
// FTS5's integrity checks, hold every DM the child said it accepted (sendDirect() had returned) and
// every SEND a peer got an ACK for, and hold no message twice. A clean last run then delivers what
// the kills left in the outbox: each peer shows every DM of ours exactly once, across retries and
// restarts, and the child holds every SEND of theirs exactly once.
//
// When the kill lands decides what can be caught. A SIGKILL keeps what the process had written to
// the OS (the page cache survives it; only power loss would not), so a kill at a random moment
// mostly proves the file is never left unreadable. An ordering bug — an ACK written before the
// commit that keeps the message, or a DM shown as accepted before its commit — is caught by the
// rounds where the child kills itself right after the event: right after its n-th ACK leaves in
// a socket write, or right after its n-th sendDirect() returns. Both are plain SIGKILLs at a
// chosen moment; the schedule comes from a seed that a failure prints (CRASH_SEED=<seed> replays
// the same schedule, though not the same interleaving).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import type { CrashChildOptions } from './crash-child.ts';
import { prng } from '../helpers/prng.ts';

const CHILD_SCRIPT = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const NAMESPACE = 'CRASH';
const CHILD_ID = `victim@${NAMESPACE}`;
const PEER_NAMES = ['alice', 'bob'];
/** How each round ends; 'external' is the test's SIGKILL after a random delay. */
const SCHEDULE = ['ack', 'accept', 'external', 'ack', 'accept', 'external', 'ack'] as const;
/** SENDs a peer keeps unacknowledged toward the child at most, so that a long outage stays bounded. */
const FLOOD_BACKLOG = 48;

/** One run of crash-child.ts and what it said. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly accepted: { msgId: string; peerId: string }[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly closed: Promise<unknown>;
  private waiters: (() => void)[] = [];

  constructor(options: CrashChildOptions) {
    this.proc = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CHILD_SCRIPT, JSON.stringify(options)], { stdio: 'pipe' });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    // Every line said before the kill is read before 'exit' resolves the round (see `finished`).
    this.closed = new Promise((resolve) => this.proc.stdout.on('close', resolve));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      this.lines.push(line);
      const [word, msgId, peerId] = line.split(' ');
      if (word === 'accepted') this.accepted.push({ msgId: msgId!, peerId: peerId! });
      for (const wake of this.waiters.splice(0)) wake();
    });
    createInterface({ input: this.proc.stderr }).on('line', (line) => this.stderr.push(line));
  }

  /** Resolves once the child has said a line starting with `word`. */
  async said(word: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some((l) => l === word || l.startsWith(`${word} `))) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`the child exited before saying "${word}": ${this.stderr.slice(-10).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`the child did not say "${word}" within ${timeoutMs} ms: ${this.stderr.slice(-10).join('\n')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** The exit, once its stdout is read to the end. */
  async finished(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exit = await this.exited;
    await this.closed;
    return exit;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }
}

/** A peer that keeps SENDs flowing to the child, and which of them it got an ACK for. */
interface Flood {
  peer: TestEngine;
  sent: Set<string>;
  acked: Set<string>;
}

/** What the history file holds, after checking that it opens and is whole. */
interface FileContents {
  /** Our DMs: msg_id -> peer and delivery state. */
  ours: Map<string, { to: string; state: string | null }>;
  /** Received messages as `sender msg_id`. */
  received: Set<string>;
  duplicates: string[];
}

function readHistory(path: string): FileContents {
  // The engine's own way in first: recovery after the kill, the ownership and schema checks.
  openMessageStore(path).close();
  const db = new DatabaseSync(path);
  try {
    expect((db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check)).toEqual(['ok']);
    // The search index matches the messages it was written with (rank 1: against the content table).
    db.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
    const duplicates = (db.prepare('SELECT msg_id, sender, count(*) AS n FROM messages GROUP BY msg_id, sender HAVING n > 1').all() as { msg_id: string; sender: string; n: number }[]).map(
      (r) => `${r.sender} ${r.msg_id} x${r.n}`,
    );
    const ours = new Map<string, { to: string; state: string | null }>();
    for (const r of db.prepare("SELECT msg_id, recipient, state FROM messages WHERE direction = 'out' AND kind = 'dm'").all() as { msg_id: string; recipient: string; state: string | null }[]) {
      ours.set(r.msg_id, { to: r.recipient, state: r.state });
    }
    const received = new Set((db.prepare("SELECT sender, msg_id FROM messages WHERE direction = 'in'").all() as { sender: string; msg_id: string }[]).map((r) => `${r.sender} ${r.msg_id}`));
    return { ours, received, duplicates };
  } finally {
    db.close();
  }
}

let rdv: TestServer;
let dir: string;
const floods: Flood[] = [];
let flooding = false;
let floodTimer: NodeJS.Timeout | undefined;
let child: Child | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-crash-'));
  rdv = await startTestServer();
  for (const name of PEER_NAMES) {
    // Long ACK timeouts: a slow commit on a loaded machine must not turn into retries here.
    const peer = await startEngine(rdv.port, name, NAMESPACE, { logging: { level: 'WARN' }, network: { ackTimeoutMs: 10_000 } });
    const flood: Flood = { peer, sent: new Set(), acked: new Set() };
    peer.engine.on('delivery', (d) => d.to === CHILD_ID && d.state === 'delivered' && flood.acked.add(d.msgId));
    floods.push(flood);
  }
  let n = 0;
  floodTimer = setInterval(() => {
    if (!flooding) return;
    for (const f of floods) {
      for (let burst = 1 + (n % 4); burst > 0 && f.sent.size - f.acked.size < FLOOD_BACKLOG; burst--) {
        n += 1;
        f.sent.add(f.peer.engine.sendDirect(CHILD_ID, `flood ${n} de ${f.peer.engine.peerId}: não é só um teste, é o João`).msgId);
      }
    }
  }, 3);
});

afterAll(async () => {
  clearInterval(floodTimer);
  if (child?.alive) child.proc.kill('SIGKILL');
  await stopEngines();
  await rdv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('history after SIGKILL', () => {
  it('keeps every DM accepted from the user and every SEND acknowledged to a peer, across kills at random points and restarts', async () => {
    const seed = Number(process.env.CRASH_SEED ?? randomInt(2 ** 31));
    const random = prng(seed);
    const dbPath = join(dir, 'history.sqlite');
    const accepted: { msgId: string; peerId: string }[] = [];
    const log: string[] = [`crash test seed ${seed} (CRASH_SEED=${seed} replays the kill schedule)`];
    const context = () => log.join('\n');
    const started = Date.now();

    for (const [round, kill] of SCHEDULE.entries()) {
      const killAfter = kill === 'external' ? undefined : { event: kill, n: 1 + Math.floor(random() * (kill === 'ack' ? 40 : 60)) };
      const delayMs = 100 + Math.floor(random() * 1200);
      child = new Child({ dbPath, rendezvousPort: rdv.port, name: 'victim', namespace: NAMESPACE, peers: floods.map((f) => f.peer.engine.peerId), killAfter, seed: seed + round, maxLifeMs: 20_000 });
      await child.said('ready', 10_000);
      flooding = true;
      const readyAt = Date.now();
      // The test's kill: the round's kill for 'external', a fallback (the round then fails) otherwise.
      const timer = setTimeout(() => child!.proc.kill('SIGKILL'), killAfter ? 10_000 : delayMs);
      const exit = await child.finished();
      clearTimeout(timer);
      flooding = false;
      const lifeMs = Date.now() - readyAt;
      accepted.push(...child.accepted);
      const selfKill = child.lines.find((l) => l.startsWith('kill '));
      log.push(
        `round ${round}: ${killAfter ? `kill after ${killAfter.event} #${killAfter.n}` : `kill after ${delayMs} ms`} -> ${exit.signal ?? exit.code} after ${lifeMs} ms` +
          `${selfKill ? ` (${selfKill})` : ''}, ${child.accepted.length} DMs accepted, ${floods.map((f) => f.acked.size).join('+')} SENDs acked so far`,
      );
      expect(exit.signal, `${context()}\nthe child was not killed: ${child.stderr.slice(-20).join('\n')}`).toBe('SIGKILL');
      if (killAfter) expect(selfKill, `${context()}\nthe child did not reach its kill point`).toBe(`kill ${killAfter.event} ${killAfter.n}`);

      // Every ACK the child wrote before dying has been read once each peer has seen the close.
      await waitFor('the peers to see the child gone', () => floods.every((f) => f.peer.peer(CHILD_ID)?.state !== 'open'), 10_000);
      const file = readHistory(dbPath);
      expect(file.duplicates, `${context()}\nstored twice`).toEqual([]);
      const lostDms = accepted.filter((a) => !file.ours.has(a.msgId));
      expect(lostDms, `${context()}\naccepted DMs missing from the history`).toEqual([]);
      const lostSends = floods.flatMap((f) => [...f.acked].map((id) => `${f.peer.engine.peerId} ${id}`)).filter((key) => !file.received.has(key));
      expect(lostSends, `${context()}\nACKed SENDs missing from the history`).toEqual([]);
    }

    // The clean last run: the outbox the kills left goes out, the peers' parked SENDs come in.
    child = new Child({ dbPath, rendezvousPort: rdv.port, name: 'victim', namespace: NAMESPACE, peers: floods.map((f) => f.peer.engine.peerId), final: true, seed, maxLifeMs: 20_000 });
    await child.said('outbox-empty', 15_000);
    await waitFor('every SEND of the peers acknowledged', () => floods.every((f) => f.acked.size === f.sent.size), 15_000);
    accepted.push(...child.accepted);
    child.proc.stdin.write('stop\n');
    const exit = await child.finished();
    expect(exit.code, `${context()}\nthe last run did not stop cleanly: ${child.stderr.slice(-20).join('\n')}`).toBe(0);
    expect(child.lines).toContain('stopped');

    const file = readHistory(dbPath);
    log.push(`final: ${file.ours.size} DMs of ours, ${file.received.size} received, ${Date.now() - started} ms in all`);
    expect(file.duplicates, `${context()}\nstored twice`).toEqual([]);
    // Every DM of ours — the accepted ones, and any committed just before a kill cut its line — was
    // delivered, and each peer showed each one exactly once.
    expect(accepted.filter((a) => !file.ours.has(a.msgId)), context()).toEqual([]);
    expect([...file.ours].filter(([, m]) => m.state !== 'delivered'), `${context()}\nnot delivered`).toEqual([]);
    for (const f of floods) {
      const peerId = f.peer.engine.peerId;
      const shown = f.peer.messages.filter((m) => m.from === CHILD_ID).map((m) => m.msgId);
      const expected = [...file.ours].filter(([, m]) => m.to === peerId).map(([id]) => id);
      expect(shown.length, `${context()}\n${peerId} showed a DM twice`).toBe(new Set(shown).size);
      expect(new Set(shown), `${context()}\n${peerId} did not show exactly our DMs`).toEqual(new Set(expected));
      // And the child holds each of the peer's SENDs once (the unique index forbids more).
      expect([...f.sent].filter((id) => !file.received.has(`${peerId} ${id}`)), `${context()}\n${peerId}'s SENDs missing`).toEqual([]);
    }
    expect(file.received.size).toBe(floods.reduce((n, f) => n + f.sent.size, 0));
    console.log(context());
  }, 90_000);
});
