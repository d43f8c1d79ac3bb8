// `npm run soak [-- --minutes N]` (default 10): one engine under an hour's churn, as a class
// network treats it. 200 peers connect from 127.0.0.2, chat, drop without BYE, reconnect and
// leave with BYE, each on a 30 s cycle shifted so that about two thirds are online at any time;
// DMs flow both ways, ours through the outbox while their peer is away; a hostile connection
// arrives every second from 127.0.0.10-59; the rendezvous server restarts every 2 minutes and
// comes back without its records.
//
// The engine runs alone in a child (bench/soak-engine.ts) with a real SQLite history file and is
// sampled once a minute: RSS and heap after a full GC, open file descriptors, active timers and
// resources, the outbox. At the end every peer comes back until nothing waits, and the history
// file is read: every DM a peer saw ACKed must be stored exactly once, and every DM the engine
// accepted must have reached its peer. Progress goes to stderr; the last line on stdout is one
// JSON object, also written to docs/soak.json for `npm run reliability`.

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Logger } from '../src-main/engine/log.ts';
import { startRendezvousServer, type RendezvousServer } from '../src-main/rendezvous-server/server.ts';
import { helloLine } from '../tests/helpers/hostile.ts';
import { prng } from '../tests/helpers/prng.ts';
import type { SoakCommand, SoakReply, SoakSample } from './soak-engine.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const MINUTES = Number(values.minutes);
if (!Number.isInteger(MINUTES) || MINUTES < 2) throw new Error(`--minutes must be a whole number of at least 2, got ${values.minutes}`);

const PEERS = 200;
const CYCLE_MS = 30_000;
const ONLINE_MS = 20_000;
const PEER_ADDRESS = '127.0.0.2';
const HOSTILE_ADDRESSES = 50;
const RESTART_EVERY_MS = 120_000;
/** Our DMs to peers, one every this many ms; each peer sends one every CHAT_EVERY_MS while online. */
const SEND_EVERY_MS = 200;
const CHAT_EVERY_MS = 4_000;
const DRAIN_TIMEOUT_MS = 180_000;
const RESULT = fileURLToPath(new URL('../docs/soak.json', import.meta.url));

const log = (message: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const random = prng(15);
const peerIdOf = (i: number) => `p${String(i).padStart(3, '0')}@CIC`;

// ---- The engine under soak ----------------------------------------------------------------------

class Target {
  readonly child: ChildProcess;
  port = 0;
  readonly accepted = new Map<string, string>();
  readonly delivered = new Set<string>();
  refused = 0;
  private readonly waiters: { type: SoakReply['type']; resolve: (r: SoakReply) => void }[] = [];

  constructor(rendezvousPort: number, historyFile: string) {
    const script = fileURLToPath(new URL('./soak-engine.ts', import.meta.url));
    this.child = fork(script, [String(rendezvousPort), historyFile], { execArgv: ['--expose-gc', '--disable-warning=ExperimentalWarning'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (r: SoakReply) => {
      if (r.type === 'accepted') this.accepted.set(r.msgId, r.to);
      if (r.type === 'refused') this.refused += 1;
      if (r.type === 'delivered') for (const id of r.msgIds) this.delivered.add(id);
      const i = this.waiters.findIndex((w) => w.type === r.type);
      if (i !== -1) this.waiters.splice(i, 1)[0]!.resolve(r);
    });
  }

  next<T extends SoakReply['type']>(type: T): Promise<Extract<SoakReply, { type: T }>> {
    return new Promise((resolve) => this.waiters.push({ type, resolve: resolve as (r: SoakReply) => void }));
  }

  send(command: SoakCommand): void {
    this.child.send(command);
  }

  async sample(): Promise<SoakSample> {
    const reply = this.next('sample');
    this.send({ type: 'sample' });
    return reply;
  }
}

// ---- A peer of the class ------------------------------------------------------------------------

/** A course client on raw sockets: HELLO, ACKs what it gets, PONGs, sends DMs until each is ACKed. */
class SimPeer {
  readonly peerId: string;
  private socket: Socket | undefined;
  private open = false;
  private seq = 0;
  /** Our DMs not ACKed yet: sent again, same msg_id, on the next connection. */
  readonly unacked = new Set<string>();
  readonly acked = new Set<string>();
  /** SENDs from the engine, by msg_id, with how many times each came. */
  readonly received = new Map<string, number>();
  connections = 0;
  refusals = 0;
  private chat: NodeJS.Timeout | undefined;
  private readonly enginePort: () => number;

  constructor(index: number, enginePort: () => number) {
    this.peerId = peerIdOf(index);
    this.enginePort = enginePort;
  }

  get online(): boolean {
    return this.open;
  }

  /** Dials until HELLO_OK (the engine refuses a second connection while it still holds the first). */
  async connect(deadline: number): Promise<void> {
    while (!this.open && Date.now() < deadline) {
      await this.dialOnce();
      if (!this.open) {
        this.refusals += 1;
        await sleep(500);
      }
    }
  }

  private dialOnce(): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.enginePort(), localAddress: PEER_ADDRESS });
      let rest = '';
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => (socket.destroy(), settle()), 5000);
      socket.on('error', () => undefined);
      socket.on('connect', () => socket.write(helloLine(this.peerId)));
      socket.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line.trim()) this.onFrame(socket, JSON.parse(line) as Record<string, unknown>, settle);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.lost();
        settle();
      });
    });
  }

  private onFrame(socket: Socket, frame: Record<string, unknown>, opened: () => void): void {
    const write = (f: object) => socket.writable && socket.write(JSON.stringify(f) + '\n');
    switch (frame.type) {
      case 'HELLO_OK':
        this.socket = socket;
        this.open = true;
        this.connections += 1;
        for (const msgId of this.unacked) this.sendDm(msgId);
        // Once in a while, an ACKed DM again, as a peer that missed our ACK does: shown once.
        if (this.acked.size > 0 && random() < 0.2) this.sendDm([...this.acked].at(-1)!);
        this.chat = setInterval(() => this.sendDm(), CHAT_EVERY_MS * (0.5 + random()));
        opened();
        return;
      case 'PING':
        return void write({ type: 'PONG', msg_id: frame.msg_id, timestamp: new Date().toISOString(), ttl: 1 });
      case 'SEND':
        this.received.set(frame.msg_id as string, (this.received.get(frame.msg_id as string) ?? 0) + 1);
        return void write({ type: 'ACK', msg_id: frame.msg_id, timestamp: new Date().toISOString(), ttl: 1 });
      case 'ACK':
        if (this.unacked.delete(frame.msg_id as string)) this.acked.add(frame.msg_id as string);
        return;
      case 'BYE':
        write({ type: 'BYE_OK', msg_id: frame.msg_id, src: this.peerId, dst: frame.src, ttl: 1 });
        socket.end();
        return;
    }
  }

  private sendDm(msgId?: string): void {
    if (!this.open || !this.socket) return;
    const id = msgId ?? `${this.peerId}-${++this.seq}`;
    if (!this.acked.has(id)) this.unacked.add(id);
    this.socket.write(JSON.stringify({ type: 'SEND', msg_id: id, src: this.peerId, dst: 'target@CIC', payload: `dm ${id}`, require_ack: true, ttl: 1 }) + '\n');
  }

  private lost(): void {
    clearInterval(this.chat);
    this.socket = undefined;
    this.open = false;
  }

  /** Gone without a word, as a killed process. */
  drop(): void {
    const socket = this.socket;
    this.lost();
    socket?.destroy();
  }

  /** BYE, then close once BYE_OK comes (or 2 s later). */
  async leave(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.lost();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(JSON.stringify({ type: 'BYE', msg_id: `bye-${this.peerId}-${this.seq}`, src: this.peerId, dst: 'target@CIC', reason: 'leaving', ttl: 1 }) + '\n');
    await Promise.race([closed, sleep(2000)]);
    socket.destroy();
  }
}

// ---- Hostile connections ------------------------------------------------------------------------

const HOSTILE_KINDS = ['silent', 'garbage', 'partial HELLO', 'HELLO then silent', 'oversize line', 'slow HELLO'] as const;

function hostile(n: number, port: number, held: Set<Socket>, counts: Record<string, number>): void {
  const kind = HOSTILE_KINDS[n % HOSTILE_KINDS.length]!;
  counts[kind] = (counts[kind] ?? 0) + 1;
  const socket = connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${10 + (n % HOSTILE_ADDRESSES)}` });
  held.add(socket);
  let drip: NodeJS.Timeout | undefined;
  // Whatever the engine does, the attacker lets go within 15 s.
  const giveUp = setTimeout(() => socket.destroy(), 15_000);
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearTimeout(giveUp);
    clearInterval(drip);
    held.delete(socket);
  });
  socket.on('connect', () => {
    switch (kind) {
      case 'garbage':
        return void socket.write('\x00\xff not json\n{"type":7}\n[]\n{"type":"SEND"\n');
      case 'partial HELLO':
        return void socket.write('{"type":"HELLO","peer_id":"mallory@CIC"');
      case 'HELLO then silent':
        return void socket.write(helloLine(`mallory${n}@CIC`));
      case 'oversize line':
        return void socket.write('{"type":"HELLO","peer_id":"' + 'x'.repeat(40_000));
      case 'slow HELLO': {
        const line = helloLine(`slowpoke${n}@CIC`);
        let i = 0;
        drip = setInterval(() => (i < line.length - 1 ? socket.write(line[i++]!) : clearInterval(drip)), 500);
        return;
      }
    }
  });
}

// ---- The run ------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'chatp2p-soak-'));
const historyFile = join(dir, 'history.sqlite');
const quiet = new Logger({ level: 'ERROR', sink: () => undefined });
const startRendezvous = (port = 0) => startRendezvousServer({ host: '127.0.0.1', port, db: ':memory:', maxRequests: 1_000_000, logger: quiet });
let rdv: RendezvousServer = await startRendezvous();
const rdvPort = rdv.port;
const target = new Target(rdvPort, historyFile);
target.port = (await target.next('ready')).port;
log(`engine on 127.0.0.1:${target.port}, rendezvous on ${rdvPort}, ${MINUTES} minute(s), history ${historyFile}`);

const started = Date.now();
const peers = Array.from({ length: PEERS }, (_, i) => new SimPeer(i, () => target.port));
let stopping = false;
let drops = 0;
let byes = 0;

/** Peer i: online for ONLINE_MS from its slot in each cycle; the cycle ends in a drop or a BYE, in turn. */
async function churn(i: number): Promise<void> {
  const peer = peers[i]!;
  for (let cycle = 0; !stopping; cycle++) {
    const from = started + (i * CYCLE_MS) / PEERS + cycle * CYCLE_MS;
    await sleep(Math.max(0, from - Date.now()));
    if (stopping) return;
    await peer.connect(from + ONLINE_MS);
    await sleep(Math.max(0, from + ONLINE_MS - Date.now()));
    if (stopping) return;
    if (cycle % 2 === 0) {
      peer.drop();
      drops += 1;
    } else {
      await peer.leave();
      byes += 1;
    }
  }
}
const churning = peers.map((_, i) => churn(i));

let sent = 0;
const sender = setInterval(() => {
  const to = peerIdOf(Math.floor(random() * PEERS));
  target.send({ type: 'send', to, text: `ours ${++sent} to ${to}` });
}, SEND_EVERY_MS);

const hostileHeld = new Set<Socket>();
const hostileCounts: Record<string, number> = {};
let hostileN = 0;
const attacker = setInterval(() => hostile(hostileN++, target.port, hostileHeld, hostileCounts), 1000);

let restarts = 0;
const restarter = setInterval(() => {
  void (async () => {
    await rdv.close();
    await sleep(1000);
    rdv = await startRendezvous(rdvPort);
    restarts += 1;
  })();
}, RESTART_EVERY_MS);

const samples: (SoakSample & { minute: number; peersOnline: number; hostileHeld: number })[] = [];
for (let minute = 1; minute <= MINUTES; minute++) {
  await sleep(Math.max(0, started + minute * 60_000 - Date.now()));
  const s = await target.sample();
  const online = peers.filter((p) => p.online).length;
  samples.push({ minute, ...s, peersOnline: online, hostileHeld: hostileHeld.size });
  log(`minute ${minute}: rss ${s.rssMb} MB, heap ${s.heapMb} MB, fds ${s.fds}, timers ${s.timers}, resources ${s.resources}, outbox ${s.outbox}, open ${s.open} (${online} peers online), pending ${s.pendingHandshakes}, accepted ${target.accepted.size}, delivered ${target.delivered.size}, warnings ${s.warnings}`);
}

// ---- Drain and check ----------------------------------------------------------------------------

log('churn over: every peer comes back until nothing waits');
stopping = true;
clearInterval(sender);
clearInterval(attacker);
clearInterval(restarter);
for (const s of hostileHeld) s.destroy();
await Promise.all(churning);
const drainStarted = Date.now();
await Promise.all(peers.map((p) => p.connect(drainStarted + DRAIN_TIMEOUT_MS)));
// Let the last accepts and deliveries reach us.
await sleep(1500);
let last = await target.sample();
while (Date.now() - drainStarted < DRAIN_TIMEOUT_MS && (last.outbox > 0 || peers.some((p) => p.unacked.size > 0) || target.delivered.size < target.accepted.size)) {
  await sleep(2000);
  last = await target.sample();
}
const drainMs = Date.now() - drainStarted;
log(`drained in ${Math.round(drainMs / 1000)} s: outbox ${last.outbox}, unacked at peers ${peers.reduce((n, p) => n + p.unacked.size, 0)}`);
await Promise.all(peers.map((p) => p.leave()));
const stopped = target.next('stopped');
target.send({ type: 'stop' });
await stopped;
await rdv.close();

const db = new DatabaseSync(historyFile, { readOnly: true });
const stored = new Map<string, number>();
for (const row of db.prepare("SELECT msg_id, sender, direction, COUNT(*) AS n FROM messages GROUP BY msg_id, sender, direction").all() as { msg_id: string; sender: string; direction: string; n: number }[]) {
  stored.set(`${row.direction} ${row.sender} ${row.msg_id}`, row.n);
}
const outState = new Map((db.prepare("SELECT msg_id, state FROM messages WHERE direction = 'out'").all() as { msg_id: string; state: string }[]).map((r) => [r.msg_id, r.state]));
db.close();

let ackedIn = 0;
let lostIn = 0;
let duplicatedIn = 0;
for (const p of peers) {
  for (const msgId of p.acked) {
    ackedIn += 1;
    const n = stored.get(`in ${p.peerId} ${msgId}`) ?? 0;
    if (n === 0) lostIn += 1;
    if (n > 1) duplicatedIn += 1;
  }
}
const receivedBy = new Map<string, number>();
for (const p of peers) for (const [msgId, n] of p.received) receivedBy.set(msgId, n);
let lostOut = 0;
let duplicatedOut = 0;
let notDelivered = 0;
for (const [msgId] of target.accepted) {
  if (!receivedBy.has(msgId)) lostOut += 1;
  if ((stored.get(`out target@CIC ${msgId}`) ?? 0) > 1) duplicatedOut += 1;
  if (outState.get(msgId) !== 'delivered') notDelivered += 1;
}
const resent = [...receivedBy.values()].reduce((n, c) => n + c - 1, 0);
rmSync(dir, { recursive: true, force: true });

const pick = <K extends keyof (typeof samples)[number]>(key: K) => samples.map((s) => s[key]);
const result = {
  measuredAt: new Date(started).toISOString(),
  node: process.versions.node,
  minutes: pick('minute'),
  rssMb: pick('rssMb'),
  heapMb: pick('heapMb'),
  fds: pick('fds'),
  timers: pick('timers'),
  resources: pick('resources'),
  outbox: pick('outbox'),
  openConnections: pick('open'),
  peersOnline: pick('peersOnline'),
  warnings: pick('warnings'),
  peers: PEERS,
  connections: peers.reduce((n, p) => n + p.connections, 0),
  drops,
  byes,
  refusedReconnects: peers.reduce((n, p) => n + p.refusals, 0),
  hostile: hostileCounts,
  rendezvousRestarts: restarts,
  dmsAcked: ackedIn + target.delivered.size,
  dmsAckedByEngine: ackedIn,
  dmsAcceptedByEngine: target.accepted.size,
  dmsDeliveredByEngine: target.delivered.size,
  sendsRefused: target.refused,
  /** SENDs of ours a peer got again (retries after a lost ACK or connection): the peer's to de-duplicate. */
  resentToPeers: resent,
  lost: lostIn + lostOut,
  lostDetail: { ackedButNotStored: lostIn, acceptedButNeverReceived: lostOut, acceptedNotDeliveredInHistory: notDelivered },
  duplicated: duplicatedIn + duplicatedOut,
  drainMs,
  /** The last minute against the second, per figure: 1 is flat. */
  lastOverSecond: Object.fromEntries((['rssMb', 'heapMb', 'fds', 'timers', 'resources'] as const).map((k) => [k, Math.round((samples.at(-1)![k] / samples[1]![k]) * 1000) / 1000])),
};
writeFileSync(RESULT, JSON.stringify(result, null, 2) + '\n');
log(`wrote ${RESULT}`);
process.stdout.write(JSON.stringify(result) + '\n');
if (result.lost > 0 || result.duplicated > 0) {
  log(`FAILED: ${result.lost} DM(s) lost, ${result.duplicated} stored more than once`);
  process.exitCode = 1;
}
