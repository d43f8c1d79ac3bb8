// `npm run bench:engine`: how fast and how correctly the engine talks to each kind of peer, every
// message durable (a history file per engine, docs/DURABILITY.md), against baselines measured in
// the same run; one JSON object on stdout, progress on stderr. The goals are issue #14's.
//
// - Stop-and-wait from a peer without chatp2p-pipeline, as a course client sends: SEND, wait for
//   the ACK, SEND again. They SEND (we ACK): a driver child (bench/engine-peer.ts `driver`) runs
//   against the engine and against a minimal raw Node ACKer in another child (its floor, window 1);
//   goal 0.7 of the floor. We SEND (they ACK): the engine's closed loop against that ACKer, and the
//   ACKer's own rate to a raw client in this process; goal 0.8.
// - Pipelined, window 64, toward a peer that proves chatp2p-pipeline: the engine's closed loop
//   against a raw client's on the same peer; goal 0.5 with p99 under 20 ms. Also QUEUED_MESSAGES
//   handed to sendDirect() at once (latency from 'sent', since time queued is the backlog's).
// - Each throughput figure is also measured for an engine whose history fsyncs every commit
//   (synchronous FULL, what we did before), so that the trade stays visible.
// - And beside each, its durable floor (bench/durable-floor.ts): the same raw peer or client, but
//   committing each message to SQLite before its ACK (or before its SEND is queued), as the history
//   must. Its ratio to the raw floor is what the durability costs by itself on this machine;
//   engineOfDurableFloor is what the engine's own code costs on top.
// - A first-line reader (keeps only the first line of each read, PROTOCOL.md §4) that echoes our
//   HELLO as its HELLO_OK: our DMs and PUBs to it while it sends SENDs to us; frames lost must be 0.
// - Over the throughput phases (not the queued run): the event loop's delay (p99, max) and the
//   history's background work: fsyncs per second, checkpointer passes (in their thread) and the
//   checkpoints that still held the event loop (at 256 MB of WAL), with the longest of each, and
//   the search index's steps on the event loop (how many, p99, longest).
// - 1,000 open peers in one engine (bench/engine-memory.ts in a child, raw dialers in another):
//   RSS after a full GC under 150 MB.
// - chatp2p-secure (issue #16): window 64 between two of our engines, sealed, against the same
//   two engines without identity keys (unsealed); goal 0.6.
//
// Closed loops keep `window` messages outstanding, a new one sent per ACK; the variants alternate
// over the rounds, perSecond is the median round, latencies are pooled. Loopback figures on a
// shared machine wander: the ratios, not the rates, are what to read. The bench exits non-zero only
// when it could not measure.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OutgoingMessage } from '../src-main/engine/api.ts';
import { defaultConfig, mergeConfig } from '../src-main/engine/config.ts';
import { Engine } from '../src-main/engine/engine.ts';
import { Logger, streamSink } from '../src-main/engine/log.ts';
import { generateKeyPair } from '../src-main/engine/secure/noise.ts';
import { openMessageStore, type SqliteMessageStore } from '../src-main/engine/store/sqlite-store.ts';
import { rendezvousRequest } from '../src-main/engine/rendezvous/client.ts';
import { startRendezvousServer } from '../src-main/rendezvous-server/server.ts';
import { DurableFloor } from './durable-floor.ts';
import type { MemoryCommand, MemoryReport } from './engine-memory.ts';
import type { AckPeer, PeerCommand, PeerReport } from './engine-peer.ts';

const WARMUP_MS = 1000;
/** Each variant is measured in ROUNDS rounds of ROUND_MS, alternating with the others. */
const ROUNDS = 3;
const ROUND_MS = 2000;
const PIPELINE_WINDOW = 64;
/**
 * Messages handed to sendDirect() at once in the "queued" runs: a large backlog on purpose, the
 * case where the engine's own queue does the work.
 */
const QUEUED_MESSAGES = 50_000;
/** A chat line of ordinary length. */
const PAYLOAD = 'Benchmark message: the quick brown fox jumps over the lazy dog.';
const MEMORY_PEERS = 1000;
/**
 * File descriptors each process of the memory phase needs: the sockets plus Node's own. Node
 * raises its soft limit to the hard one at startup, so the hard limit is the one that counts.
 */
const FDS_NEEDED = MEMORY_PEERS + 100;

/** Messages each way in the first-line reader phase, and PUBs among ours. */
const FIRST_LINE_MESSAGES = 300;
const FIRST_LINE_PUBS = 10;

// Issue #14's goals.
const GOALS = { receiveOfFloor: 0.7, sendOfPeerAckRate: 0.8, pipelinedOfFloor: 0.5, pipelinedP99Ms: 20, rssWith1000PeersMb: 150, framesLost: 0, sealedOfUnsealed: 0.6 };

const NODE_FLAGS = ['--disable-warning=ExperimentalWarning'];
const log = (text: string) => process.stderr.write(`[bench:engine] ${text}\n`);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Run {
  messages: number;
  seconds: number;
  perSecond: number;
  latencies: number[];
  failures: number;
  firstFailure: string | undefined;
}

function percentiles(latencies: number[]): { p50: number; p99: number } {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN, 3);
  return { p50: at(0.5), p99: at(0.99) };
}

function finishRun(latencies: number[], started: number, ended: number, failures: number, firstFailure: string | undefined): Run {
  const seconds = (ended - started) / 1000;
  return { messages: latencies.length, seconds, perSecond: latencies.length / seconds, latencies, failures, firstFailure };
}

// ---- children -------------------------------------------------------------------------------

/** The fd limits a child of ours starts with (Node has already raised the soft one). */
function fdLimits(): { soft: number; hard: number } {
  const [soft, hard] = execFileSync('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft!, hard: hard! };
}

/**
 * A bench script in a child Node process, IPC attached, its stdout sent to our stderr so that our
 * stdout stays one JSON object.
 */
function startChild(script: string, args: string[], flags: string[] = []): ChildProcess {
  const argv = [...NODE_FLAGS, ...flags, fileURLToPath(new URL(script, import.meta.url)), ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 2, 2, 'ipc'] });
  // nextMessage() rejects when a child dies; this says so when nobody is waiting on it.
  child.on('exit', (code, signal) => {
    if (code !== 0 && !child.killed) log(`${script} exited with ${signal ?? code}`);
  });
  return child;
}

function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => {
      if (m.type !== type) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited (${code}) before sending '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Asks a child to finish (what it expects: 'stop' or a MemoryCommand), and kills it after 5 s. */
async function endChild(child: ChildProcess, command: 'stop' | MemoryCommand = 'stop'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.send(command);
  const timer = setTimeout(() => child.kill(), 5000);
  await exited;
  clearTimeout(timer);
}

// ---- the floor: a raw-socket client ----------------------------------------------------------

/** A connected, HELLO'd raw socket to one ACK peer; `run` is the closed SEND/ACK loop. */
class FloorClient {
  private readonly socket: Socket;
  private readonly self = 'client@FLOOR';
  private readonly peer: AckPeer;
  private onFrame: (message: Record<string, unknown>) => void = () => undefined;

  private constructor(socket: Socket, peer: AckPeer) {
    this.socket = socket;
    this.peer = peer;
    let rest = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line !== '') this.onFrame(JSON.parse(line) as Record<string, unknown>);
      this.flush();
    });
  }

  static async open(peer: AckPeer): Promise<FloorClient> {
    const socket = connect({ host: '127.0.0.1', port: peer.port, noDelay: true });
    await once(socket, 'connect');
    const client = new FloorClient(socket, peer);
    const hello = new Promise<void>((resolve) => (client.onFrame = (m) => m.type === 'HELLO_OK' && resolve()));
    socket.write(JSON.stringify({ type: 'HELLO', peer_id: client.self, version: '1.0', features: ['ack'], ttl: 1 }) + '\n');
    await hello;
    return client;
  }

  private out = '';
  private flush(): void {
    if (this.out === '') return;
    this.socket.write(this.out);
    this.out = '';
  }

  /**
   * Keeps `window` SENDs unacknowledged for `ms`. `batched`: the SENDs that the ACKs of one read
   * release go out in one write (the floor); otherwise each SEND is its own write. `durable`: each
   * SEND is committed there before it is queued, as sendDirect() commits (the durable floor).
   */
  run(window: number, ms: number, batched = true, durable?: DurableFloor): Promise<Run> {
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const started = performance.now();
    const deadline = started + ms;
    const send = () => {
      const msgId = randomUUID();
      sentAt.set(msgId, performance.now());
      durable?.store(msgId, this.self, PAYLOAD);
      this.out += JSON.stringify({ type: 'SEND', msg_id: msgId, src: this.self, dst: this.peer.peerId, payload: PAYLOAD, require_ack: true, timestamp: new Date().toISOString(), ttl: 1 }) + '\n';
      if (!batched) this.flush();
    };
    return new Promise((resolve) => {
      this.onFrame = (m) => {
        if (m.type !== 'ACK') return;
        const t0 = sentAt.get(m.msg_id as string);
        if (t0 === undefined) return;
        sentAt.delete(m.msg_id as string);
        const now = performance.now();
        latencies.push(now - t0);
        if (now < deadline) send();
        else if (sentAt.size === 0) resolve(finishRun(latencies, started, now, 0, undefined));
      };
      for (let i = 0; i < window; i++) send();
      this.flush();
    });
  }

  async close(): Promise<void> {
    this.socket.end(JSON.stringify({ type: 'BYE', msg_id: randomUUID(), src: this.self, dst: this.peer.peerId, reason: 'done', ttl: 1 }) + '\n');
    await once(this.socket, 'close');
  }
}

// ---- the engine ------------------------------------------------------------------------------

/** `window` messages outstanding through sendDirect(); latency is sendDirect() -> 'delivered'. */
function engineClosedLoop(engine: Engine, peerId: string, window: number, ms: number): Promise<Run> {
  const startedAt = new Map<string, number>();
  const tally = new Tally();
  const started = performance.now();
  const deadline = started + ms;
  const issue = () => {
    const t0 = performance.now();
    startedAt.set(engine.sendDirect(peerId, PAYLOAD).msgId, t0);
  };
  return new Promise((resolve) => {
    const off = engine.on('delivery', (m: OutgoingMessage) => {
      if (!settled(m)) return;
      const t0 = startedAt.get(m.msgId);
      if (t0 === undefined) return;
      startedAt.delete(m.msgId);
      const now = performance.now();
      tally.record(m, now - t0);
      if (now < deadline) issue();
      else if (startedAt.size === 0) {
        off();
        resolve(tally.finish(started, now));
      }
    });
    for (let i = 0; i < window; i++) issue();
  });
}

/** `count` messages handed to sendDirect() at once; latency is 'sent' -> 'delivered'. */
function engineQueued(engine: Engine, peerId: string, count: number): Promise<Run> {
  const sentAt = new Map<string, number>();
  const tally = new Tally();
  let done = 0;
  const started = performance.now();
  return new Promise((resolve) => {
    const off = engine.on('delivery', (m: OutgoingMessage) => {
      if (m.state === 'sent') {
        sentAt.set(m.msgId, performance.now());
        return;
      }
      if (!settled(m)) return;
      const t0 = sentAt.get(m.msgId);
      if (t0 === undefined) return;
      sentAt.delete(m.msgId);
      const now = performance.now();
      tally.record(m, now - t0);
      if (++done === count) {
        off();
        resolve(tally.finish(started, now));
      }
    });
    for (let i = 0; i < count; i++) engine.sendDirect(peerId, PAYLOAD);
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Delivered, or given up on for now (parked in the outbox with the reason). */
const settled = (m: OutgoingMessage) => m.state === 'delivered' || (m.state === 'queued' && m.error !== undefined);

/** How the DMs of one engine run ended: latencies of the delivered ones, and the failures. */
class Tally {
  readonly latencies: number[] = [];
  failures = 0;
  firstFailure: string | undefined;

  record(m: OutgoingMessage, latencyMs: number): void {
    if (m.state === 'delivered') {
      this.latencies.push(latencyMs);
    } else {
      this.failures += 1;
      this.firstFailure ??= m.error;
    }
  }

  finish(started: number, ended: number): Run {
    return finishRun(this.latencies, started, ended, this.failures, this.firstFailure);
  }
}

/** The rounds of one variant as one result: the median round's rate, latencies pooled. */
function combine(runs: Run[]): Run & { perSecondRounds: number[] } {
  const rates = runs.map((r) => r.perSecond).sort((a, b) => a - b);
  return {
    messages: runs.reduce((n, r) => n + r.messages, 0),
    seconds: runs.reduce((n, r) => n + r.seconds, 0),
    perSecond: rates[Math.floor(rates.length / 2)]!,
    perSecondRounds: runs.map((r) => Math.round(r.perSecond)),
    latencies: runs.flatMap((r) => r.latencies),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    firstFailure: runs.find((r) => r.firstFailure !== undefined)?.firstFailure,
  };
}

function describe(run: Run & { perSecondRounds?: number[] }, latency: string) {
  const { p50, p99 } = percentiles(run.latencies);
  return {
    messages: run.messages,
    seconds: round(run.seconds, 3),
    perSecond: Math.round(run.perSecond),
    ...(run.perSecondRounds && { perSecondRounds: run.perSecondRounds }),
    [`${latency}P50Ms`]: p50,
    [`${latency}P99Ms`]: p99,
    failures: run.failures,
    ...(run.firstFailure === undefined ? {} : { firstFailure: run.firstFailure }),
  };
}

/** Variants measured in alternating rounds (after one warm-up each), each as its median round. */
async function alternate(label: string, variants: Record<string, (ms: number) => Promise<Run>>): Promise<Record<string, Run & { perSecondRounds: number[] }>> {
  const rounds: Record<string, Run[]> = {};
  for (const [name, run] of Object.entries(variants)) {
    log(`${label}: warming up ${name}`);
    await run(WARMUP_MS);
    rounds[name] = [];
  }
  // Rounds alternate the variants, so that a slow spell of the machine hits them all alike.
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const result = await run(ROUND_MS);
      rounds[name]!.push(result);
      log(`${label} round ${r}: ${name} ${Math.round(result.perSecond)}/s`);
    }
  }
  return Object.fromEntries(Object.entries(rounds).map(([name, runs]) => [name, combine(runs)]));
}

/** The driver child's stop-and-wait SENDs to `port` for `ms`: a course client's way of sending. */
async function drive(driver: ChildProcess, port: number, dst: string, ms: number): Promise<Run> {
  const reply = nextMessage<Extract<PeerReport, { type: 'driven' }>>(driver, 'driven');
  driver.send({ type: 'drive', port, dst, ms, payload: PAYLOAD } satisfies PeerCommand);
  const { latencies, ms: took, unanswered } = await reply;
  return { messages: latencies.length, seconds: took / 1000, perSecond: (latencies.length * 1000) / took, latencies, failures: unanswered, firstFailure: unanswered > 0 ? 'SEND without ACK within 5 s' : undefined };
}

/** A figure against its baseline: the ratio the goal is about. */
function figure(value: number, baseline: number, goal: number, extra: Record<string, unknown> = {}) {
  const ratio = round(value / baseline, 2);
  return { perSecond: Math.round(value), baselinePerSecond: Math.round(baseline), ratio, goalRatio: goal, ...extra, meetsGoal: ratio >= goal && extra.meetsLatencyGoal !== false };
}

/**
 * The durable floor beside a figure: what a raw peer that commits each message as the history
 * does reaches against the raw floor (the cost of the durability alone), and the engine against it
 * (the cost of the engine's own code).
 */
function durableBeside(runs: Record<string, Run>) {
  const durable = runs.durableFloor!.perSecond;
  return {
    durableFloorPerSecond: Math.round(durable),
    durableFloorRatio: round(durable / runs.floor!.perSecond, 2),
    engineOfDurableFloor: round(runs.engine!.perSecond / durable, 2),
  };
}

interface Engines {
  normal: Engine;
  full: Engine;
}

/** The history of each bench engine, closed after the engine stops. */
const stores = new Map<Engine, SqliteMessageStore>();

/** An engine with a history file of its own, committed as the store does by default or FULL per commit. */
async function benchEngine(name: string, namespace: string, rendezvousPort: number, path: string, synchronous: 'FULL' | 'NORMAL'): Promise<Engine> {
  const store = openMessageStore(path, (err) => log(`${name} history: ${err.message}`), { synchronous });
  const engine = new Engine({
    config: mergeConfig(defaultConfig({ name, namespace, port: 0 }), {
      listenHost: '127.0.0.1',
      rendezvous: { host: '127.0.0.1', port: rendezvousPort, maxRequestsPerMinute: 49 },
      network: { pipelineWindow: PIPELINE_WINDOW },
      logging: { level: 'WARN' },
    }),
    store,
  });
  stores.set(engine, store);
  engine.on('log', (e) => log(`${name} ${e.level} [${e.module}] ${e.message}`));
  await engine.start();
  return engine;
}

/** Our DMs and PUBs to the first-line reader while it sends its own SENDs stop-and-wait to us. */
async function firstLinePhase(engine: Engine, peerChild: ChildProcess, firstLine: AckPeer) {
  log(`first-line reader: ${FIRST_LINE_MESSAGES} DMs and ${FIRST_LINE_PUBS} PUBs to it, ${FIRST_LINE_MESSAGES} SENDs from it`);
  const driven = nextMessage<Extract<PeerReport, { type: 'first-line' }>>(peerChild, 'first-line');
  peerChild.send({ type: 'first-line-drive', count: FIRST_LINE_MESSAGES, timeoutMs: 6000 } satisfies PeerCommand);
  const dms: string[] = [];
  for (let i = 0; i < FIRST_LINE_MESSAGES; i++) {
    dms.push(`to the first-line reader ${i}`);
    engine.sendDirect(firstLine.peerId, dms[i]!);
    if (i % (FIRST_LINE_MESSAGES / FIRST_LINE_PUBS) === 0) engine.publish(`#${firstLine.namespace}`, `pub ${i}`);
  }
  await engine.whenIdle();
  const theirs = await driven;
  // The last PUBs may still wait out their gap behind the last frames.
  await sleep(50 * FIRST_LINE_PUBS);
  const report = nextMessage<Extract<PeerReport, { type: 'first-line' }>>(peerChild, 'first-line');
  peerChild.send({ type: 'first-line-report' } satisfies PeerCommand);
  const seen = await report;
  const missingDms = dms.filter((d) => !seen.sends.includes(d)).length;
  return {
    peer: firstLine.peerId,
    echoesHello: true,
    dmsSent: FIRST_LINE_MESSAGES,
    dmsRead: seen.sends.length,
    dmsInOrder: JSON.stringify(seen.sends) === JSON.stringify(dms),
    pubsSent: FIRST_LINE_PUBS,
    pubsRead: seen.pubs,
    itsSendsAcked: theirs.acked,
    itsSendsUnacked: theirs.unacked,
    linesDropped: seen.dropped,
    // Our PINGs after a PUB are meant to be dropped, if anything is: they ask whether it read the PUB.
    linesDroppedByType: seen.droppedTypes,
    framesLost: seen.dropped + missingDms + (FIRST_LINE_PUBS - seen.pubs) + theirs.unacked,
  };
}

async function throughput(rendezvousPort: number) {
  const peerChild = startChild('./engine-peer.ts', ['ack-server']);
  const driver = startChild('./engine-peer.ts', ['driver']);
  const dir = mkdtempSync(join(tmpdir(), 'chatp2p-bench-engine-'));
  // What the raw sender commits in the durable floors of the send phases.
  const senderFloor = new DurableFloor();
  const endpoint = { host: '127.0.0.1', port: rendezvousPort, timeoutMs: 5000 };
  try {
    const { peers, firstLine } = await nextMessage<Extract<PeerReport, { type: 'listening' }>>(peerChild, 'listening');
    // The durable floor is only driven, never dialed by the engines.
    for (const peer of [...peers.filter((p) => !p.durable), firstLine]) await rendezvousRequest(endpoint, { type: 'REGISTER', namespace: peer.namespace, name: peer.name, port: peer.port });
    const legacy = peers.find((p) => !p.pipelined && !p.durable)!;
    const durableAcker = peers.find((p) => p.durable)!;
    const pipelined = peers.find((p) => p.pipelined)!;
    const engines: Engines = {
      normal: await benchEngine('bench', legacy.namespace, rendezvousPort, join(dir, 'normal.sqlite'), 'NORMAL'),
      full: await benchEngine('bench-full', legacy.namespace, rendezvousPort, join(dir, 'full.sqlite'), 'FULL'),
    };
    try {
      const wanted = [legacy, pipelined, firstLine];
      const open = (engine: Engine, peer: AckPeer) => engine.peers().find((p) => p.peerId === peer.peerId && p.state === 'open');
      await waitFor(() => wanted.every((p) => open(engines.normal, p) && open(engines.full, p)), 15_000, `the engines to connect to ${wanted.map((p) => p.peerId).join(', ')}`);
      for (const engine of Object.values(engines)) {
        if (open(engine, legacy)!.pipelined || open(engine, firstLine)!.pipelined || !open(engine, pipelined)!.pipelined) throw new Error('the connections are not pipelined as the evidence says');
      }
      const port = (engine: Engine) => engine.status().listen.port;
      const selfId = (engine: Engine) => engine.status().peerId;

      // The event loop of this process runs the engines: how long it was ever held (a checkpoint
      // runs on it), and what the history's background fsyncs and checkpoints did meanwhile.
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
      const phaseStarted = performance.now();
      const receive = await alternate('stop-and-wait, they SEND', {
        floor: (ms) => drive(driver, legacy.port, legacy.peerId, ms),
        durableFloor: (ms) => drive(driver, durableAcker.port, durableAcker.peerId, ms),
        engine: (ms) => drive(driver, port(engines.normal), selfId(engines.normal), ms),
        engineFullPerCommit: (ms) => drive(driver, port(engines.full), selfId(engines.full), ms),
      });
      const floorClient = await FloorClient.open(legacy);
      const send = await alternate('stop-and-wait, we SEND', {
        floor: (ms) => floorClient.run(1, ms),
        durableFloor: (ms) => floorClient.run(1, ms, true, senderFloor),
        engine: (ms) => engineClosedLoop(engines.normal, legacy.peerId, 1, ms),
        engineFullPerCommit: (ms) => engineClosedLoop(engines.full, legacy.peerId, 1, ms),
      });
      await floorClient.close();
      const windowClient = await FloorClient.open(pipelined);
      const windowed = await alternate(`window ${PIPELINE_WINDOW}`, {
        floor: (ms) => windowClient.run(PIPELINE_WINDOW, ms),
        floorOneWritePerSend: (ms) => windowClient.run(PIPELINE_WINDOW, ms, false),
        durableFloor: (ms) => windowClient.run(PIPELINE_WINDOW, ms, true, senderFloor),
        engine: (ms) => engineClosedLoop(engines.normal, pipelined.peerId, PIPELINE_WINDOW, ms),
        engineFullPerCommit: (ms) => engineClosedLoop(engines.full, pipelined.peerId, PIPELINE_WINDOW, ms),
      });
      await windowClient.close();
      // Not the queued run: its sendDirect() calls hold the loop by design.
      loopDelay.disable();
      const seconds = (performance.now() - phaseStarted) / 1000;
      const sync = { ...stores.get(engines.normal)!.syncStats };
      log(`window ${PIPELINE_WINDOW}: engine, ${QUEUED_MESSAGES} queued at once`);
      const queued = await engineQueued(engines.normal, pipelined.peerId, QUEUED_MESSAGES);
      await engines.normal.whenIdle();
      const firstLineReader = await firstLinePhase(engines.normal, peerChild, firstLine);
      const background = {
        seconds: round(seconds, 1),
        eventLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6, 2),
        eventLoopDelayMaxMs: round(loopDelay.max / 1e6, 2),
        historyFsyncsPerSecond: round(sync.fsyncs / seconds, 1),
        historyCheckpointsOnTheEventLoop: sync.checkpoints,
        historyLongestCheckpointMs: round(sync.longestCheckpointMs, 2),
        historyCheckpointerPasses: sync.passes,
        historyLongestPassMs: round(sync.longestPassMs, 2),
        historyIndexSteps: sync.indexSteps,
        historyIndexStepP99Ms: round(sync.indexStepP99Ms, 2),
        historyLongestIndexStepMs: round(sync.longestIndexStepMs, 2),
      };
      const searchable = stores.get(engines.normal)!.search('quick brown fox', 1).length > 0;
      return { receive, send, windowed, queued, firstLineReader, searchable, background };
    } finally {
      for (const engine of Object.values(engines)) {
        await engine.stop();
        stores.get(engine)!.close();
      }
      await rendezvousRequest(endpoint, { type: 'UNREGISTER', namespace: legacy.namespace }).catch(() => undefined);
    }
  } finally {
    await endChild(driver);
    await endChild(peerChild);
    senderFloor.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- chatp2p-secure --------------------------------------------------------------------------

/**
 * Window 64 from one of our engines to another, sealed and unsealed: two pairs alike but for the
 * identity keys, each pair alone in its namespace (policy `namespace`), histories in memory.
 */
async function sealedPhase(rendezvousPort: number) {
  const start = async (name: string, namespace: string, sealed: boolean) => {
    const engine = new Engine({
      config: mergeConfig(defaultConfig({ name, namespace, port: 0 }), {
        listenHost: '127.0.0.1',
        rendezvous: { host: '127.0.0.1', port: rendezvousPort, maxRequestsPerMinute: 49, discoverIntervalMs: 1000 },
        network: { pipelineWindow: PIPELINE_WINDOW },
        peerConnection: { policy: 'namespace' },
        logging: { level: 'WARN' },
      }),
      identity: sealed ? generateKeyPair() : undefined,
    });
    engine.on('log', (e) => log(`${name}@${namespace} ${e.level} [${e.module}] ${e.message}`));
    await engine.start();
    return engine;
  };
  const engines = [await start('sender', 'SEALED', true), await start('receiver', 'SEALED', true), await start('sender', 'PLAIN', false), await start('receiver', 'PLAIN', false)];
  const [sealedSender, , plainSender] = engines as [Engine, Engine, Engine, Engine];
  try {
    const security = (engine: Engine, peerId: string) => engine.peers().find((p) => p.peerId === peerId && p.state === 'open')?.security;
    await waitFor(() => security(sealedSender, 'receiver@SEALED') === 'encrypted' && security(plainSender, 'receiver@PLAIN') === 'plain', 15_000, 'the sealed and the plain pair to connect');
    return await alternate(`window ${PIPELINE_WINDOW}, engine to engine`, {
      unsealed: (ms) => engineClosedLoop(plainSender, 'receiver@PLAIN', PIPELINE_WINDOW, ms),
      sealed: (ms) => engineClosedLoop(sealedSender, 'receiver@SEALED', PIPELINE_WINDOW, ms),
    });
  } finally {
    for (const engine of engines) await engine.stop();
  }
}

// ---- memory ----------------------------------------------------------------------------------

async function memory(rendezvousPort: number) {
  const limits = fdLimits();
  const fdLimit = { ...limits, neededPerProcess: FDS_NEEDED };
  if (limits.soft < FDS_NEEDED) {
    const skipped = `the fd limit (${limits.soft}, hard ${limits.hard}) is below the ${FDS_NEEDED} each process needs: raise the hard limit (ulimit -Hn, as root or in limits.conf)`;
    log(`memory phase skipped: ${skipped}`);
    return { peers: MEMORY_PEERS, skipped, fdLimit };
  }

  log(`memory: one engine, ${MEMORY_PEERS} inbound peers`);
  const engineChild = startChild('./engine-memory.ts', [String(rendezvousPort)], ['--expose-gc']);
  let dialers: ChildProcess | undefined;
  try {
    const idle = await nextMessage<Extract<MemoryReport, { type: 'idle' }>>(engineChild, 'idle');
    dialers = startChild('./engine-peer.ts', ['dialers', String(idle.port), String(MEMORY_PEERS)]);
    const dialed = await nextMessage<Extract<PeerReport, { type: 'dialed' }>>(dialers, 'dialed');
    if (dialed.failed > 0) throw new Error(`${dialed.failed} of ${MEMORY_PEERS} connections failed: ${dialed.firstError}`);
    engineChild.send({ type: 'await-open', count: MEMORY_PEERS, timeoutMs: 30_000 } satisfies MemoryCommand);
    const loaded = await nextMessage<Extract<MemoryReport, { type: 'loaded' }>>(engineChild, 'loaded');
    const stopped = nextMessage<Extract<MemoryReport, { type: 'stopped' }>>(engineChild, 'stopped');
    engineChild.send({ type: 'stop' } satisfies MemoryCommand);
    const { stopMs } = await stopped;
    const rss = loaded.sample.rssMb;
    return {
      peers: MEMORY_PEERS,
      openPeers: loaded.open,
      rssBeforeEngineMb: idle.beforeEngine.rssMb,
      rssIdleEngineMb: idle.idle.rssMb,
      rssWithPeersMb: rss,
      rssWithPeersBeforeGcMb: loaded.sample.rssBeforeGcMb,
      rssPerPeerKb: round(((rss - idle.idle.rssMb) * 1024) / MEMORY_PEERS, 1),
      heapUsedIdleMb: idle.idle.heapUsedMb,
      heapUsedWithPeersMb: loaded.sample.heapUsedMb,
      connectMs: Math.round(dialed.ms),
      stopWithPeersMs: Math.round(stopMs),
      fdLimit,
    };
  } finally {
    if (dialers) await endChild(dialers);
    await endChild(engineChild, { type: 'stop' } satisfies MemoryCommand);
  }
}

// ---- main ------------------------------------------------------------------------------------

const rendezvous = await startRendezvousServer({
  host: '127.0.0.1',
  port: 0,
  // Everything comes from 127.0.0.1; the per-IP limit must not get in the way.
  maxRequests: 1e6,
  logger: new Logger({ level: 'WARN', sink: streamSink() }),
});
try {
  const t = await throughput(rendezvous.port);
  const sealed = await sealedPhase(rendezvous.port);
  const mem = await memory(rendezvous.port);
  const latency = (run: Run) => percentiles(run.latencies);
  const fullBeside = (runs: Record<string, Run>) => ({
    fullPerCommitPerSecond: Math.round(runs.engineFullPerCommit!.perSecond),
    fullPerCommitRatio: round(runs.engineFullPerCommit!.perSecond / runs.floor!.perSecond, 2),
  });
  const pipelinedP99 = latency(t.windowed.engine!).p99;
  // The variants run by FloorClient rather than by an engine.
  const rawClient = (variant: string) => variant.startsWith('floor') || variant === 'durableFloor';
  const rss = 'rssWithPeersMb' in mem ? mem.rssWithPeersMb : undefined;
  const failures = [t.receive, t.send, t.windowed, sealed].flatMap((runs) => Object.values(runs)).reduce((n, r) => n + r.failures, 0) + t.queued.failures;
  const result = {
    benchmark: 'engine',
    node: process.version,
    cpus: availableParallelism(),
    payloadBytes: Buffer.byteLength(PAYLOAD),
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    figures: {
      stopAndWaitReceive: figure(t.receive.engine!.perSecond, t.receive.floor!.perSecond, GOALS.receiveOfFloor, {
        baseline: 'a window-1 raw Node ACKer driven by the same stop-and-wait client',
        sendToAckP50Ms: latency(t.receive.engine!).p50,
        ...fullBeside(t.receive),
        ...durableBeside(t.receive),
      }),
      stopAndWaitSend: figure(t.send.engine!.perSecond, t.send.floor!.perSecond, GOALS.sendOfPeerAckRate, {
        baseline: "the peer's own ACK rate to a raw stop-and-wait client",
        sendDirectToDeliveredP50Ms: latency(t.send.engine!).p50,
        ...fullBeside(t.send),
        ...durableBeside(t.send),
      }),
      pipelined: figure(t.windowed.engine!.perSecond, t.windowed.floor!.perSecond, GOALS.pipelinedOfFloor, {
        baseline: `a raw client keeping ${PIPELINE_WINDOW} SENDs in flight to the same peer`,
        p99Ms: pipelinedP99,
        p99GoalMs: GOALS.pipelinedP99Ms,
        meetsLatencyGoal: pipelinedP99 < GOALS.pipelinedP99Ms,
        ...fullBeside(t.windowed),
        ...durableBeside(t.windowed),
      }),
      sealedPipelined: figure(sealed.sealed!.perSecond, sealed.unsealed!.perSecond, GOALS.sealedOfUnsealed, {
        baseline: `the same two engines without chatp2p-secure, window ${PIPELINE_WINDOW}`,
        p99Ms: latency(sealed.sealed!).p99,
        unsealedP99Ms: latency(sealed.unsealed!).p99,
      }),
      rssWith1000PeersMb: { value: rss, goalMb: GOALS.rssWith1000PeersMb, meetsGoal: rss !== undefined && rss < GOALS.rssWith1000PeersMb },
      framesLostToFirstLineReader: { value: t.firstLineReader.framesLost, goal: GOALS.framesLost, meetsGoal: t.firstLineReader.framesLost === GOALS.framesLost },
      deliveryFailures: failures,
      searchFindsStoredMessages: t.searchable,
    },
    stopAndWaitReceive: Object.fromEntries(Object.entries(t.receive).map(([k, r]) => [k, describe(r, 'sendToAck')])),
    stopAndWaitSend: Object.fromEntries(Object.entries(t.send).map(([k, r]) => [k, describe(r, rawClient(k) ? 'writeToAck' : 'sendDirectToDelivered')])),
    windowed: {
      ...Object.fromEntries(Object.entries(t.windowed).map(([k, r]) => [k, describe(r, rawClient(k) ? 'writeToAck' : 'sendDirectToDelivered')])),
      engineQueued: describe(t.queued, 'sentToDelivered'),
      queuedOfFloor: round(t.queued.perSecond / t.windowed.floor!.perSecond, 2),
    },
    firstLineReader: t.firstLineReader,
    background: t.background,
    memory: mem,
    sealedPipelined: Object.fromEntries(Object.entries(sealed).map(([k, r]) => [k, describe(r, 'sendDirectToDelivered')])),
    goals: { ...GOALS, source: 'issue #14; sealedOfUnsealed issue #16' },
  };
  console.log(JSON.stringify(result, null, 2));
} catch (err) {
  log(`could not measure: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await rendezvous.close();
}
