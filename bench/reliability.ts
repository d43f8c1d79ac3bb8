// `npm run reliability`: runs the hostile, fault and boundary scenarios of tests/reliability at full
// size with the default bounds, measures what the party under attack held (connections, bytes
// queued, memory before/during/after) and how long it took to recover, prints the results as JSON
// on stdout and writes them as the table of docs/RELIABILITY.md. Progress goes to stderr.
//
// The engine and the rendezvous server under attack each run in a child process of their own
// (bench/reliability-child.ts), so their memory figures are theirs and not the attackers'. Pass
// criteria live in the tests; here every figure is only measured and reported.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, mergeConfig, type ConfigOverrides } from '../src-main/engine/config.ts';
import { Engine } from '../src-main/engine/engine.ts';
import { Logger } from '../src-main/engine/log.ts';
import { FEATURE_PIPELINE } from '../src-main/engine/wire/messages.ts';
import { startRendezvousServer, type RendezvousServer, type RendezvousServerOptions } from '../src-main/rendezvous-server/server.ts';
import { ChatService } from '../src-main/service/chat-service.ts';
import { jsonFileSettingsStore } from '../src-main/web/settings-file.ts';
import { COMMANDS } from '../src-shared/chat-api.ts';
import { spawnEngine } from '../tests/helpers/engine-child.ts';
import { attackerAddress, CuttingProxy, flood, helloLine, openClients, type RawClient } from '../tests/helpers/hostile.ts';
import { ScriptedPeer } from '../tests/helpers/peers.ts';
import { exchange, register } from '../tests/helpers/rendezvous.ts';
import type { ChildCommand, ChildReply, ChildState } from './reliability-child.ts';

const DOC = fileURLToPath(new URL('../docs/RELIABILITY.md', import.meta.url));
const SOAK = fileURLToPath(new URL('../docs/soak.json', import.meta.url));
/** Attackers come from 127.0.0.10 and up; the well-behaved peer or client from 127.0.0.2. */
const ATTACKER = '127.0.0.10';
const fromAttacker = () => ATTACKER;
const GOOD = '127.0.0.2';
const defaultEngine = defaultConfig({ name: 'x', namespace: 'CIC', port: 0 });
const defaults = defaultEngine.network;

interface Row {
  area: 'Engine' | 'Rendezvous server' | 'Faults' | 'Desktop boundary';
  scenario: string;
  bound: string;
  measured: string;
  /** The test that asserts the bound. */
  test: string;
  data: Record<string, unknown>;
}
const rows: Row[] = [];

const log = (message: string) => process.stderr.write(`[reliability] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const s = (ms: number) => `${round(ms / 1000, 2)} s`;
const fmt = (n: number) => n.toLocaleString('en-US');
const kib = (bytes: number) => (bytes < 10_240 ? `${fmt(bytes)} bytes` : `${fmt(Math.round(bytes / 1024))} KiB`);

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return performance.now() - started;
}

/** The engine or rendezvous server under attack, in its own process. */
class Target {
  readonly port: number;
  private readonly child: ChildProcess;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
  }

  static async start(role: 'engine' | 'rendezvous', options: object): Promise<Target> {
    const script = fileURLToPath(new URL('./reliability-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--expose-gc', '--disable-warning=ExperimentalWarning', script, role, JSON.stringify(options)], { stdio: ['ignore', 2, 2, 'ipc'] });
    const ready = await Target.next(child, 'ready');
    return new Target(child, ready.port);
  }

  private static next<T extends ChildReply['type']>(child: ChildProcess, type: T): Promise<Extract<ChildReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: ChildReply) => {
        if (m.type !== type) return;
        cleanup();
        resolve(m as Extract<ChildReply, { type: T }>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`the ${type} reply never came: child exited with ${code}`));
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  }

  /** One command at a time, each with its reply. */
  request<T extends ChildReply['type']>(command: ChildCommand, reply: T): Promise<Extract<ChildReply, { type: T }>> {
    const result = this.queue.then(() => {
      const answer = Target.next(this.child, reply);
      this.child.send(command);
      return answer;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  sample(): Promise<ChildState> {
    return this.request({ type: 'sample' }, 'state');
  }

  stats(): Promise<ChildState> {
    return this.request({ type: 'stats' }, 'state');
  }

  async stop(): Promise<void> {
    await this.request({ type: 'stop' }, 'stopped');
  }
}

const memory = (state: ChildState) => `${state.memory!.rssMb} MB RSS (${state.memory!.heapAndBuffersMb} MB heap+buffers)`;
const memoryData = (state: ChildState) => state.memory!;

/** A new, well-behaved peer dials the engine, its DM is shown, and ours is delivered to it. */
async function normalPeer(target: Target, name: string): Promise<{ served: boolean; ms: number }> {
  const started = performance.now();
  const peerId = `${name}@CIC`;
  const peer = new ScriptedPeer({ peerId });
  try {
    const socket = await peer.dial(target.port, peerId, GOOD);
    await until(`${peerId} open`, () => peer.of('HELLO_OK').length > 0 || socket.destroyed, 10_000);
    if (socket.destroyed) return { served: false, ms: performance.now() - started };
    peer.write(socket, { type: 'SEND', msg_id: `${name}-1`, src: peerId, dst: 'target@CIC', payload: 'still there?', require_ack: true, ttl: 1 });
    await until('the ACK', () => peer.of('ACK').length > 0, 10_000);
    const sent = await target.request({ type: 'send', to: peerId, text: 'yes', timeoutMs: 10_000 }, 'sent');
    return { served: sent.state === 'delivered', ms: performance.now() - started };
  } catch {
    return { served: false, ms: performance.now() - started };
  } finally {
    await peer.close();
  }
}

const served = (r: { served: boolean; ms: number }) => (r.served ? `a new peer connected and exchanged DMs in ${round(r.ms)} ms` : 'a new peer was NOT served');
const closeAll = async (clients: RawClient[]) => {
  for (const c of clients) c.socket.destroy();
  await Promise.all(clients.map((c) => c.closed));
};

// ---- The engine ----------------------------------------------------------------------------------

async function engineScenarios(rdv: RendezvousServer): Promise<void> {
  const start = (config: ConfigOverrides = {}) => Target.start('engine', { rendezvousPort: rdv.port, config });

  {
    log('engine: 1,000 silent connections at once');
    const target = await start();
    const before = await target.sample();
    const started = performance.now();
    const clients = await openClients(target.port, 1000, { from: fromAttacker });
    const refusedMs = await until('the refusals', () => clients.filter((c) => c.isClosed).length >= 1000 - defaults.maxPendingPerIp);
    const during = await target.sample();
    const orderly = clients.filter((c) => c.isClosed && c.ended && c.received === 0 && c.error === undefined).length;
    await Promise.all(clients.map((c) => c.closed));
    const releasedMs = performance.now() - started;
    const peer = await normalPeer(target, 'normal');
    const after = await target.sample();
    rows.push({
      area: 'Engine',
      scenario: '1,000 connections opened at once from one IP, none says HELLO',
      bound: `max_pending_per_ip ${defaults.maxPendingPerIp}, max_pending_handshakes ${defaults.maxPendingHandshakes}, handshake timeout ${s(defaults.handshakeTimeoutMs)}`,
      measured:
        `held ${during.peers!.peakPendingHandshakes} at most, refused ${fmt(during.peers!.refused)} within ${s(refusedMs)} (${orderly} closed in order with 0 bytes; ${during.warnings} WARN line(s) in the log); ` +
        `the held ones released after ${s(releasedMs)}; ${served(peer)}; memory before ${memory(before)}, during ${memory(during)}, after ${memory(after)}`,
      test: 'hostile-peers: holds at most max_pending_per_ip of 1,000 connections…',
      data: { held: during.peers!.peakPendingHandshakes, refused: during.peers!.refused, refusedMs, releasedMs, peer, before: memoryData(before), during: memoryData(during), after: memoryData(after), logLines: during.warnings },
    });
    await target.stop();
  }

  {
    log('engine: 320 silent connections from 8 addresses');
    const target = await start();
    const before = await target.sample();
    const started = performance.now();
    const clients = await openClients(target.port, 320, { from: attackerAddress(8) });
    const evictedMs = await until('the evictions', () => clients.filter((c) => c.isClosed).length >= 320 - defaults.maxPendingHandshakes);
    const during = await target.sample();
    const peer = await normalPeer(target, 'normal');
    const after = await target.stats();
    rows.push({
      area: 'Engine',
      scenario: '320 connections at once from 8 addresses (40 each, under the per-IP cap), none says HELLO; then a peer from 127.0.0.2',
      bound: `max_pending_handshakes ${defaults.maxPendingHandshakes}: a newcomer over it takes the place of the oldest pending connection of the IP holding the most`,
      measured: `held ${during.peers!.peakPendingHandshakes} at most, evicted ${during.peers!.evicted} within ${s(evictedMs)} (refused ${during.peers!.refused}); with every slot still held, ${served(peer)} (${after.peers!.evicted - during.peers!.evicted} more evicted for it); memory before ${memory(before)}, during ${memory(during)}`,
      test: 'hostile-peers: with every handshake slot held by 8 addresses, a peer from 127.0.0.2… is served',
      data: { held: during.peers!.peakPendingHandshakes, evicted: during.peers!.evicted, evictedMs, peer, before: memoryData(before), during: memoryData(during), ms: performance.now() - started },
    });
    await closeAll(clients);
    await target.stop();
  }

  {
    log('engine: 32 addresses reopen as fast as we close, for 10 s');
    const target = await start();
    const before = await target.sample();
    const from = attackerAddress(32);
    let opened = 0;
    let stopped = false;
    const open = new Set<Socket>();
    const one = () => {
      const socket = connect({ host: '127.0.0.1', port: target.port, localAddress: from(opened++) });
      open.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        open.delete(socket);
        if (!stopped) one();
      });
    };
    for (let i = 0; i < 256; i++) one();
    const started = performance.now();
    const peers: { served: boolean; ms: number }[] = [];
    while (performance.now() - started < 10_000) {
      peers.push(await normalPeer(target, `good${peers.length}`));
      await sleep(200);
    }
    const during = await target.sample();
    stopped = true;
    for (const socket of open) socket.destroy();
    await until('the flood gone', async () => (await target.stats()).peers!.inbound === 0);
    const after = await target.sample();
    const ms = peers.map((p) => p.ms).sort((a, b) => a - b);
    rows.push({
      area: 'Engine',
      scenario: 'An attacker on 32 addresses keeps 256 silent connections coming, reopening each one we close, for 10 s; meanwhile peers from 127.0.0.2 connect one after another',
      bound: `max_pending_handshakes ${defaults.maxPendingHandshakes}, eviction as above; a peer past HELLO holds no handshake slot and is never evicted`,
      measured: `${fmt(opened)} attacker connections opened, ${fmt(during.peers!.evicted)} evicted, at most ${during.peers!.peakPendingHandshakes} pending; ${peers.filter((p) => p.served).length} of ${peers.length} peers served (connected and exchanged DMs), median ${round(ms[Math.floor(ms.length / 2)] ?? 0)} ms, slowest ${round(ms.at(-1) ?? 0)} ms; memory before ${memory(before)}, during ${memory(during)}, after ${memory(after)}`,
      test: 'hostile-peers: while 32 addresses reopen as fast as we close, every peer that says HELLO is served…',
      data: { opened, evicted: during.peers!.evicted, peak: during.peers!.peakPendingHandshakes, served: peers.filter((p) => p.served).length, tried: peers.length, ms, before: memoryData(before), during: memoryData(during), after: memoryData(after) },
    });
    await target.stop();
  }

  {
    log('engine: a DISCOVER that lists 10,000 peers that are gone');
    const listing = await quietServer();
    // A port nothing listens on: every dial to it is refused at once, as to a peer long gone.
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const gonePort = (gone.address() as AddressInfo).port;
    await new Promise((resolve) => gone.close(resolve));
    for (let i = 0; i < 10_000; i += 200) await Promise.all(Array.from({ length: 200 }, (_, j) => register(listing.port, `gone${i + j}`, 'CIC', gonePort)));
    const real = new ScriptedPeer({ peerId: 'zoe@CIC' });
    await real.listen();
    await real.register(listing.port);
    const target = await Target.start('engine', { rendezvousPort: listing.port, config: {} });
    const before = await target.sample();
    const started = performance.now();
    const reachedMs = await until('zoe reached', () => real.of('HELLO').length > 0, 120_000);
    const during = await target.sample();
    rows.push({
      area: 'Engine',
      scenario: 'The rendezvous server lists 10,000 peers whose port refuses, then one real peer',
      bound: `max_concurrent_dials ${defaults.maxConcurrentDials}: our dials waiting for HELLO_OK at once; the rest wait their turn`,
      measured: `at most ${during.peers!.peakDialing} dials in flight (${fmt(during.peers!.dialsQueued)} still queued for their retries when measured); the real peer, listed last, was dialed ${s(reachedMs)} after start; memory before ${memory(before)}, during ${memory(during)}`,
      test: 'hostile-peers: dials at most max_concurrent_dials of a 500-peer DISCOVER at once…',
      data: { peakDialing: during.peers!.peakDialing, queued: during.peers!.dialsQueued, reachedMs, before: memoryData(before), during: memoryData(during), ms: performance.now() - started },
    });
    await target.stop();
    await real.close();
    await listing.close();
  }

  {
    log('engine: 1,100 peers from one IP complete HELLO');
    const target = await start();
    const before = await target.sample();
    const clients = await openClients(target.port, 1100, { from: fromAttacker, batch: 50, onConnect: (socket, i) => socket.write(helloLine(`sybil${i}@CIC`)) });
    await until('1,024 open', async () => (await target.stats()).peers!.open >= defaults.maxConnectionsPerIp);
    const during = await target.sample();
    await closeAll(clients);
    await until('all closed', async () => (await target.stats()).peers!.inbound === 0);
    const peer = await normalPeer(target, 'normal');
    const after = await target.sample();
    rows.push({
      area: 'Engine',
      scenario: '1,100 peers from one IP, each says HELLO with its own peer_id',
      bound: `max_connections_per_ip ${fmt(defaults.maxConnectionsPerIp)}`,
      measured: `held ${fmt(during.peers!.open)} open, refused ${during.peers!.refused}; memory before ${memory(before)}, with ${fmt(during.peers!.open)} open ${memory(during)} (${round(((during.memory!.rssMb - before.memory!.rssMb) * 1024) / during.peers!.open)} KB per peer), after they left ${memory(after)}; ${served(peer)}`,
      test: 'hostile-peers: holds at most max_connections_per_ip from one IP…',
      data: { open: during.peers!.open, refused: during.peers!.refused, peer, before: memoryData(before), during: memoryData(during), after: memoryData(after) },
    });
    await target.stop();
  }

  {
    log('engine: lines that never end');
    const target = await start();
    const before = await target.sample();
    const clients = await openClients(target.port, 50, { from: fromAttacker, batch: 50, onConnect: (socket, i) => socket.write(helloLine(`drip${i}@CIC`)) });
    await until('50 open', async () => (await target.stats()).peers!.open === 50);
    const partial = '{"type":"SEND","payload":"' + 'x'.repeat(32_700);
    for (const c of clients) c.socket.write(partial);
    await sleep(500);
    const holding = await target.sample();
    for (const c of clients) c.socket.write('x'.repeat(1000));
    const closedMs = await until('all closed', () => clients.every((c) => c.isClosed));
    const after = await target.sample();
    rows.push({
      area: 'Engine',
      scenario: '50 peers each send a line that never ends',
      bound: 'at most 32,768 bytes buffered per connection (the line limit); a line that stops short of it is caught by keep-alive (3 missed PONGs)',
      measured: `50 partial lines of ${fmt(partial.length)} bytes held: ${memory(holding)} (before ${memory(before)}); one more KB each: all 50 closed within ${s(closedMs)}; after ${memory(after)}`,
      test: 'hostile-peers: drops a peer whose line never ends…; peer-behaviour: closes a connection whose line outgrows 32768 bytes',
      data: { before: memoryData(before), holding: memoryData(holding), after: memoryData(after), closedMs },
    });
    await target.stop();
  }

  for (const features of [['ack'], ['ack', FEATURE_PIPELINE]]) {
    const kind = features.length === 1 ? 'legacy' : 'pipelining';
    log(`engine: PING flood from a ${kind} peer`);
    const target = await start();
    const before = await target.sample();
    const [client] = await openClients(target.port, 1, { from: fromAttacker, onConnect: (socket) => socket.write(helloLine('pinger@CIC', features)) });
    let lines = 0;
    client!.socket.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines += 1;
    });
    await until('open', async () => (await target.stats()).peers!.open === 1);
    const PINGS = 200_000;
    const started = performance.now();
    const flooding = flood(client!.socket, JSON.stringify({ type: 'PING', msg_id: 'p', ttl: 1 }) + '\n', PINGS, 2000);
    const peer = await normalPeer(target, 'normal');
    const result = await flooding;
    const floodMs = performance.now() - started;
    await sleep(200);
    const after = await target.sample();
    // Every line after HELLO_OK is a PONG.
    const pongs = lines - 1;
    rows.push({
      area: 'Engine',
      scenario: `PING flood: ${fmt(PINGS)} PINGs from a ${kind} peer that reads`,
      bound: 'at most one PONG queued per connection: a PING that arrives while one waits replaces it',
      measured: `${fmt(result.frames)} PINGs in ${s(floodMs)} got ${fmt(pongs)} PONGs; most bytes ever queued for it ${kib(after.peers!.peakQueuedBytes)}; during the flood ${served(peer)}; memory before ${memory(before)}, after ${memory(after)}`,
      test: 'hostile-peers: answers a PING flood with one PONG per read…',
      data: { pings: result.frames, pongs, floodMs, peakQueuedBytes: after.peers!.peakQueuedBytes, peer, before: memoryData(before), after: memoryData(after) },
    });
    client!.socket.destroy();
    await target.stop();
  }

  for (const features of [['ack'], ['ack', FEATURE_PIPELINE]]) {
    const kind = features.length === 1 ? 'legacy' : 'pipelining';
    log(`engine: SEND flood from a ${kind} peer that never reads`);
    const target = await start();
    const before = await target.sample();
    const [client] = await openClients(target.port, 1, { from: fromAttacker, onConnect: (socket) => socket.write(helloLine('hog@CIC', features)) });
    await until('open', async () => (await target.stats()).peers!.open === 1);
    client!.socket.pause();
    const send = JSON.stringify({ type: 'SEND', msg_id: 'm'.repeat(128), src: 'hog@CIC', dst: 'target@CIC', payload: 'x', require_ack: true, ttl: 1 }) + '\n';
    const started = performance.now();
    const result = await flood(client!.socket, send, 2_000_000);
    const droppedMs = performance.now() - started;
    await until('dropped', async () => (await target.stats()).peers!.inbound === 0);
    const peer = await normalPeer(target, 'normal');
    const after = await target.sample();
    rows.push({
      area: 'Engine',
      scenario: `SEND flood from a ${kind} peer that never reads our ACKs`,
      bound: `max_write_queue_bytes ${kib(defaults.maxWriteQueueBytes)} (socket buffer + our queue), then the peer is dropped`,
      measured: `${result.closed ? 'dropped' : 'NOT dropped'} after ${fmt(result.frames)} SENDs (${s(droppedMs)}); most bytes ever queued for it ${kib(after.peers!.peakQueuedBytes)}; memory before ${memory(before)}, after ${memory(after)}; ${served(peer)}`,
      test: 'hostile-peers: drops a … peer that floods SENDs without reading our ACKs…',
      data: { frames: result.frames, dropped: result.closed, droppedMs, peakQueuedBytes: after.peers!.peakQueuedBytes, peer, before: memoryData(before), after: memoryData(after) },
    });
    await target.stop();
  }

  {
    log('engine: HELLO, then silence');
    const pingIntervalMs = 1000;
    const target = await start({ keepalive: { pingIntervalMs } });
    const [client] = await openClients(target.port, 1, { from: fromAttacker, onConnect: (socket) => socket.write(helloLine('mute@CIC')) });
    await until('open', async () => (await target.stats()).peers!.open === 1);
    const droppedMs = await until('dropped', () => client!.isClosed);
    const peer = await normalPeer(target, 'normal');
    rows.push({
      area: 'Engine',
      scenario: 'A peer says HELLO, then never sends nor reads anything',
      bound: `keep-alive: ${defaultEngine.keepalive.maxMissedPongs} missed PONGs make it stale, then BYE and up to the BYE timeout (${s(defaults.byeTimeoutMs)})`,
      measured: `with ping_interval ${s(pingIntervalMs)}: dropped ${s(droppedMs)} after HELLO_OK (the 4th keep-alive tick finds 3 PINGs unanswered, then the BYE timeout; at the default ${s(defaultEngine.keepalive.pingIntervalMs)}: about ${s(defaultEngine.keepalive.pingIntervalMs * (defaultEngine.keepalive.maxMissedPongs + 1) + defaults.byeTimeoutMs)}); ${served(peer)}`,
      test: 'hostile-peers: drops a peer that says HELLO and then falls silent…',
      data: { pingIntervalMs, droppedMs, peer },
    });
    await target.stop();
  }

  {
    log('engine: lies about identity');
    const target = await start();
    const mallory = new ScriptedPeer({ peerId: 'mallory@CIC' });
    const socket = await mallory.dial(target.port, 'mallory@CIC', ATTACKER);
    await until('open', () => mallory.of('HELLO_OK').length > 0);
    for (const [i, src] of ['target@CIC', 'bob@CIC', 'prof@UnB'].entries()) {
      mallory.write(socket, { type: 'SEND', msg_id: `s${i}`, src, dst: 'target@CIC', payload: `I am ${src}`, require_ack: true, ttl: 1 });
    }
    await until('ACKs', () => mallory.of('ACK').length === 3);
    const { messages } = await target.request({ type: 'messages' }, 'messages');
    const impostor = new ScriptedPeer({ peerId: 'target@CIC' });
    const own = await impostor.dial(target.port, 'target@CIC', ATTACKER);
    await until('refused', () => own.destroyed);
    const state = await target.stats();
    rows.push({
      area: 'Engine',
      scenario: 'A peer claims another src in its SENDs; another dials claiming our own peer_id',
      bound: 'a message is attributed to the peer_id its connection proved in HELLO; a HELLO with our own peer_id is refused before HELLO_OK',
      measured: `${messages.filter((m) => m.from === 'mallory@CIC').length} of 3 spoofed SENDs shown as from mallory@CIC (claimed src kept aside, ${state.counters!.spoofed} counted as spoofed); the HELLO as ourselves got ${impostor.frames.length} frames back and its socket closed`,
      test: 'hostile-peers: shows a SEND whose src is our own peer_id…; takes a peer whose HELLO_OK claims our own peer_id as the peer it dialed…; peer-behaviour: handshakes',
      data: { attributed: messages.map((m) => [m.from, m.claimedSrc]), spoofed: state.counters!.spoofed },
    });
    await Promise.all([mallory.close(), impostor.close()]);
    await target.stop();
  }
}

// ---- The rendezvous server --------------------------------------------------------------------

async function rendezvousScenarios(): Promise<void> {
  const start = (options: RendezvousServerOptions = {}) => Target.start('rendezvous', options);
  const DISCOVER = '{"type": "DISCOVER"}\n';
  const REGISTER = '{"type": "REGISTER", "name": "alice", "namespace": "CIC", "port": 5000}\n';
  /** A well-behaved client from 127.0.0.2: REGISTER, then a DISCOVER that lists it. */
  const goodClient = async (port: number) =>
    (await exchange(port, REGISTER, { from: GOOD })).reply.includes('"OK"') && (await exchange(port, DISCOVER, { from: GOOD })).reply.includes('"alice"');

  const CAP = 16_384;
  for (const [count, addresses] of [
    [10_000, 20],
    [17_000, 34],
  ] as const) {
    log(`rendezvous: ${fmt(count)} silent connections from ${addresses} addresses`);
    const target = await start({ maxRequests: 1_000_000 });
    const before = await target.sample();
    const started = performance.now();
    const clients = await openClients(target.port, count, { from: attackerAddress(addresses), batch: 1000 });
    const openedMs = performance.now() - started;
    await until('room made', () => clients.filter((c) => c.isClosed).length >= count - CAP);
    const evicted = clients.filter((c) => c.isClosed).length;
    const t0 = performance.now();
    const ok = await goodClient(target.port);
    const servedMs = performance.now() - t0;
    const during = await target.sample();
    await Promise.all(clients.map((c) => c.closed));
    const releasedMs = performance.now() - started;
    const timedOut = clients.filter((c) => c.text.includes('Timeout: no data received')).length;
    const after = await target.sample();
    const served = `a REGISTER + DISCOVER from 127.0.0.2 ${ok ? 'answered' : 'NOT answered'} in ${round(servedMs)} ms with ${fmt(during.connections ?? 0)} held`;
    const memoryFigures = `memory before ${memory(before)}, during ${memory(during)}, after ${memory(after)}`;
    const data = { count, addresses, evicted, held: during.connections, openedMs, servedMs, ok, releasedMs, timedOut, before: memoryData(before), during: memoryData(during), after: memoryData(after) };
    rows.push(
      count <= CAP
        ? {
            area: 'Rendezvous server',
            scenario: `${fmt(count)} connections from ${addresses} addresses that never send a request`,
            bound: 'request deadline 5 s from the connection (timeout reply, then close)',
            measured: `all ${fmt(count)} held at once (opened in ${s(openedMs)}); meanwhile ${served}; all timed out and closed after ${s(releasedMs)} (${fmt(timedOut)} got the timeout reply); ${memoryFigures}`,
            test: 'rendezvous/cli: holds 10,000 silent connections at once…',
            data,
          }
        : {
            area: 'Rendezvous server',
            scenario: `${fmt(count)} connections from ${addresses} addresses that never send a request (per-IP limit lifted), then a client from 127.0.0.2`,
            bound: `${fmt(CAP)} connections held at once: at the cap a newcomer takes the place of the oldest silent connection of the IP holding the most; the 5 s request deadline still applies`,
            measured: `opened in ${s(openedMs)}, ${fmt(evicted)} let go to make room; ${served}; the rest timed out and closed after ${s(releasedMs)} (${fmt(timedOut)} got the timeout reply); ${memoryFigures}`,
            test: 'reliability/rendezvous-hostile: with its connection cap held by silent clients from 8 addresses…; while 32 addresses reopen…',
            data,
          },
    );
    await target.stop();
  }

  {
    log('rendezvous: flood from one IP');
    const target = await start();
    const before = await target.sample();
    await exchange(target.port, REGISTER, { from: ATTACKER });
    const started = performance.now();
    const clients = await openClients(target.port, 1000, { from: fromAttacker, onConnect: (socket) => socket.write(DISCOVER) });
    await Promise.all(clients.map((c) => c.closed));
    const ms = performance.now() - started;
    const answered = clients.filter((c) => c.text.startsWith('{"status": "OK"')).length;
    const dropped = clients.filter((c) => c.received === 0).length;
    const blocked = clients.filter((c) => c.text.includes('has been blocked')).length;
    const after = await target.sample();
    rows.push({
      area: 'Rendezvous server',
      scenario: '1,000 requests at once from one IP',
      bound: '50 connections per IP per sliding 60 s, then the IP is blocked for 60 s',
      measured: `${answered} answered (plus the REGISTER before them), ${dropped} closed without reply, ${fmt(blocked)} told they are blocked, all within ${s(ms)}; ${after.connections} connections held afterwards, ${after.warnings} WARN line(s) in the log; memory before ${memory(before)}, after ${memory(after)}`,
      test: 'reliability/rendezvous-hostile: under a flood of 1,000 connections from one IP…; rendezvous/rate-limit',
      data: { answered, dropped, blocked, ms, before: memoryData(before), after: memoryData(after) },
    });
    await target.stop();
  }

  {
    log('rendezvous: clients that never read their reply');
    const target = await start({ maxRequests: 1_000_000 });
    for (let i = 0; i < 500; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => register(target.port, `peer-${i + j}`, 'CIC', 10_000 + i + j)));
    const before = await target.sample();
    const started = performance.now();
    await exchange(target.port, REGISTER, { from: ATTACKER });
    const clients = await openClients(target.port, 1000, {
      from: fromAttacker,
      onConnect: (socket) => {
        socket.write(DISCOVER);
        socket.pause();
      },
    });
    await sleep(500);
    const during = await target.sample();
    await until('all dropped', async () => (await target.stats()).connections === 0, 30_000);
    const releasedMs = performance.now() - started;
    const after = await target.sample();
    rows.push({
      area: 'Rendezvous server',
      scenario: '1,000 clients ask for a 500-peer DISCOVER and never read nor close',
      bound: 'linger 5 s after the reply, then the connection is dropped',
      measured: `held ${fmt(during.connections ?? 0)} with their replies written: ${memory(during)} (before ${memory(before)}); all dropped ${s(releasedMs)} after they connected; after ${memory(after)}`,
      test: 'reliability/rendezvous-hostile: drops clients that never read their reply…',
      data: { held: during.connections, releasedMs, before: memoryData(before), during: memoryData(during), after: memoryData(after) },
    });
    await closeAll(clients);
    await target.stop();
  }

  {
    log('rendezvous: oversize lines');
    const target = await start({ maxRequests: 1_000_000 });
    const before = await target.sample();
    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: 200 }, () => exchange(target.port, Buffer.alloc(1024 * 1024, 'a'))));
    const ms = performance.now() - started;
    const after = await target.sample();
    const tooLong = replies.filter((r) => r.reply.includes('line_too_long')).length;
    rows.push({
      area: 'Rendezvous server',
      scenario: '200 clients each send 1 MiB without a newline',
      bound: 'answered line_too_long once 32,768 bytes pass without a newline; nothing more is buffered',
      measured: `${tooLong} of 200 answered line_too_long within ${s(ms)}; memory before ${memory(before)}, after ${memory(after)}`,
      test: 'rendezvous/protocol: answers line_too_long as soon as 32768 bytes pass…',
      data: { tooLong, ms, before: memoryData(before), after: memoryData(after) },
    });
    await target.stop();
  }
}

// ---- Faults -------------------------------------------------------------------------------------

function engine(rdvPort: number, name: string, overrides: ConfigOverrides = {}): Engine {
  return new Engine({
    config: mergeConfig(
      defaultConfig({ name, namespace: 'CIC', port: 0 }),
      { listenHost: '127.0.0.1', rendezvous: { host: '127.0.0.1', port: rdvPort, maxRequestsPerMinute: 49 }, logging: { level: 'ERROR' } },
      overrides,
    ),
  });
}
const isOpen = (e: Engine, peerId: string) => e.peers().some((p) => p.peerId === peerId && p.state === 'open');
function delivered(e: Engine, msgId: string): Promise<void> {
  return new Promise((resolve) => {
    const off = e.on('delivery', (d) => d.msgId === msgId && d.state === 'delivered' && (off(), resolve()));
  });
}
const quietServer = (options: RendezvousServerOptions = {}) =>
  startRendezvousServer({ host: '127.0.0.1', port: 0, db: ':memory:', maxRequests: 1_000_000, logger: new Logger({ level: 'ERROR', sink: () => undefined }), ...options });

async function faultScenarios(): Promise<void> {
  {
    log('faults: the rendezvous server restarts');
    let rdv = await quietServer();
    const discoverIntervalMs = 5000;
    const fast = { rendezvous: { discoverIntervalMs } };
    const alice = engine(rdv.port, 'alice', fast);
    const bob = engine(rdv.port, 'bob', fast);
    await alice.start();
    await bob.start();
    await until('connected', () => isOpen(alice, 'bob@CIC') && isOpen(bob, 'alice@CIC'));
    await until('no request in flight', () => rdv.connections === 0);
    const port = rdv.port;
    await rdv.close();
    const during = alice.sendDirect('bob@CIC', 'while the server is down');
    const deliveredDuring = await Promise.race([delivered(alice, during.msgId).then(() => true), sleep(5000).then(() => false)]);
    await sleep(1000);
    rdv = await quietServer({ port });
    const restarted = performance.now();
    const reregisteredMs = await until('registered again', () => rdv.registrations >= 1, 60_000);
    const carol = engine(rdv.port, 'carol', fast);
    await carol.start();
    const newcomerMs = await until('carol connected to both', () => isOpen(carol, 'alice@CIC') && isOpen(carol, 'bob@CIC'), 60_000).then(() => performance.now() - restarted);
    const stillOpen = isOpen(alice, 'bob@CIC');
    await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
    await rdv.close();
    rows.push({
      area: 'Faults',
      scenario: 'The rendezvous server restarts (down 1 s, back without its records) under two connected peers',
      bound: 'peer connections do not depend on the server; a peer registers again when DISCOVER answers peer_not_registered or lists no record of its own',
      measured: `a DM while it was down ${deliveredDuring ? 'delivered' : 'NOT delivered'}; connection ${stillOpen ? 'still open' : 'lost'}; registered again ${s(reregisteredMs)} after the restart and a newcomer connected to both after ${s(newcomerMs)} (DISCOVER every ${s(discoverIntervalMs)}; the default is 60 s)`,
      test: 'faults: peers carry on when the rendezvous server restarts…; every peer of one IP registers again…',
      data: { deliveredDuring, stillOpen, reregisteredMs, newcomerMs, discoverIntervalMs },
    });
  }

  {
    log('faults: a peer is killed without BYE');
    const rdv = await quietServer();
    const alice = engine(rdv.port, 'alice');
    await alice.start();
    let bob = await spawnEngine(rdv.port, 'bob', 'CIC');
    await until('connected', () => isOpen(alice, 'bob@CIC'));
    const killed = performance.now();
    await bob.kill();
    const detectedMs = await until('noticed', () => !isOpen(alice, 'bob@CIC')).then(() => performance.now() - killed);
    alice.sendDirect('bob@CIC', 'are you back?');
    const restarting = performance.now();
    bob = await spawnEngine(rdv.port, 'bob', 'CIC', bob.port);
    const reconnectedMs = await until('reconnected', () => isOpen(alice, 'bob@CIC'), 60_000).then(() => performance.now() - restarting);
    await until('delivered', () => bob.messages.includes('are you back?'), 30_000);
    const deliveredMs = performance.now() - restarting;
    await bob.kill();
    await alice.stop();
    await rdv.close();
    rows.push({
      area: 'Faults',
      scenario: "A peer's process is killed (no BYE) and started again on the same port",
      bound: 'the closed socket is the signal (keep-alive for a silent network); dials again with backoff; the DM waits in the outbox',
      measured: `loss noticed ${round(detectedMs)} ms after the kill; reconnected ${s(reconnectedMs)} after the restart began (process start included); the DM sent meanwhile delivered once, ${s(deliveredMs)} after it`,
      test: 'faults: notices a peer killed without BYE…',
      data: { detectedMs, reconnectedMs, deliveredMs },
    });
  }

  {
    log('faults: the network drops a connection mid-frame');
    const rdv = await quietServer();
    const bob = new ScriptedPeer({ peerId: 'bob@CIC' });
    await bob.listen();
    const proxy = new CuttingProxy(bob.port);
    await register(rdv.port, 'bob', 'CIC', await proxy.listen());
    const alice = engine(rdv.port, 'alice');
    await alice.start();
    await until('connected', () => isOpen(alice, 'bob@CIC'));
    proxy.cutNext('cut me', 'toTarget');
    const started = performance.now();
    const sent = alice.sendDirect('bob@CIC', 'cut me in half');
    await delivered(alice, sent.msgId);
    const ms = performance.now() - started;
    const copies = bob.of('SEND').filter((f) => f.msg_id === sent.msgId).length;
    await alice.stop();
    await Promise.all([proxy.close(), bob.close(), rdv.close()]);
    rows.push({
      area: 'Faults',
      scenario: 'The network resets a connection halfway through a SEND',
      bound: 'the half frame dies with its connection (never parsed, never a strike); the SEND goes again, same msg_id, on the next connection',
      measured: `delivered ${s(ms)} after it was sent (reconnect backoff ${s(defaultConfig({ name: 'x', namespace: 'y', port: 0 }).peerConnection.backoffBaseMs)} ± 50% included); the peer read it ${copies} time(s)`,
      test: 'faults: loses nothing and shows nothing twice when the network drops a connection mid-frame…',
      data: { ms, copies },
    });
  }
}

// ---- The desktop boundary -----------------------------------------------------------------------

async function boundaryScenarios(): Promise<void> {
  log('desktop boundary: 16 MiB arguments');
  const dir = mkdtempSync(join(tmpdir(), 'chatp2p-reliability-'));
  const service = new ChatService({ store: jsonFileSettingsStore(join(dir, 'settings.json')), dataDir: dir, host: 'electron', listenHost: '127.0.0.1', openExternal: () => undefined });
  const huge = 'x'.repeat(16 * 1024 * 1024);
  const argsFor: Partial<Record<string, unknown[]>> = {
    startProfile: [{ name: huge, namespace: 'CIC', port: 0, ttl: 60, rendezvous: { preset: 'local', port: 8080 } }],
    updateSettings: [{ notifyChannels: [`#${huge}`] }],
    sendDirect: [`${huge}@CIC`, 'hi'],
    publish: [`#${huge}`, 'hi'],
    retry: [huge],
    cancel: [huge],
    reconnect: [`${huge}@CIC`],
    setLogLevel: [huge],
    history: [`dm:${huge}@CIC`],
    search: [huge],
    exportConversation: [`#${huge}`, 'text'],
    deleteConversation: [`#${huge}`],
    markRead: [`#${huge}`],
    setActiveConversation: [`#${huge}`],
    openLink: [`https://${huge}`],
  };
  const timings: { command: string; ms: number; refused: boolean }[] = [];
  for (const command of COMMANDS) {
    const args = argsFor[command];
    if (!args) continue;
    const started = performance.now();
    const reply = await service.dispatch(command, args);
    timings.push({ command, ms: round(performance.now() - started), refused: !reply.ok });
  }
  await service.stop();
  rmSync(dir, { recursive: true, force: true });
  const slow = timings.filter((t) => t.ms >= 20).sort((a, b) => b.ms - a.ms);
  rows.push({
    area: 'Desktop boundary',
    scenario: 'Every command with a string argument, given a 16 MiB string',
    bound: 'type, length and allowed values checked in main before anything acts (service/arguments.ts); refusals are clear errors',
    measured:
      `${timings.filter((t) => t.refused).length} of ${timings.length} refused; ${timings.length - slow.length} in under 20 ms` +
      (slow.length > 0 ? `; ${slow.map((t) => `${t.command} ${t.ms} ms`).join(', ')}` : ''),
    test: 'reliability/desktop-boundary: <command> refuses a wrong type, a huge string or an odd value in each argument',
    data: { timings },
  });
}

// ---- The report ---------------------------------------------------------------------------------

interface SoakResult {
  measuredAt: string;
  node: string;
  minutes: number[];
  rssMb: number[];
  heapMb: number[];
  fds: number[];
  timers: number[];
  resources: number[];
  outbox: number[];
  openConnections: number[];
  peers: number;
  connections: number;
  drops: number;
  byes: number;
  hostile: Record<string, number>;
  rendezvousRestarts: number;
  dmsAcked: number;
  dmsAckedByEngine: number;
  dmsDeliveredByEngine: number;
  lost: number;
  duplicated: number;
  resentToPeers: number;
  drainMs: number;
}

/** The soak's figures (`npm run soak` writes docs/soak.json): the second minute against the last. */
function soakSection(): string[] {
  const head = ['## Soak: an hour of churn', ''];
  if (!existsSync(SOAK)) return [...head, 'No soak measured yet: run `npm run soak -- --minutes 60`, then `npm run reliability -- --soak`.', ''];
  const r = JSON.parse(readFileSync(SOAK, 'utf8')) as SoakResult;
  const n = r.minutes.length;
  const hostile = Object.values(r.hostile).reduce((a, b) => a + b, 0);
  const row = (name: string, values: number[], unit = '') => {
    const second = values[1]!;
    const last = values[n - 1]!;
    const change = second === 0 ? (last === 0 ? '0%' : 'n/a') : `${last >= second ? '+' : ''}${round(((last - second) / second) * 100)}%`;
    return `| ${name} | ${fmt(second)}${unit} | ${fmt(last)}${unit} | ${change} | ${values.map((v) => fmt(v)).join(', ')} |`;
  };
  return [
    ...head,
    `\`npm run soak -- --minutes ${n}\`, measured ${r.measuredAt.slice(0, 16).replace('T', ' ')} UTC with Node ${r.node}, on this machine alongside other work. One engine in a child`,
    `process with a real SQLite history; ${r.peers} peers from 127.0.0.2 on a 30 s cycle (online 20 s: connect, chat, then drop without BYE or leave`,
    'with BYE, in turn), about two thirds online at any time; DMs both ways, ours through the outbox while their peer is away; a hostile',
    'connection every second from 127.0.0.10-59 (silent, garbage, partial or slow HELLO, HELLO then silence, oversize line); the rendezvous',
    'server restarting every 2 minutes without its records. Samples follow a full GC, once a minute.',
    '',
    `| figure | minute 2 | minute ${n} | change | every minute |`,
    '|---|---|---|---|---|',
    row('RSS (MB)', r.rssMb),
    row('JS heap (MB)', r.heapMb),
    row('open file descriptors', r.fds),
    row('active timers', r.timers),
    row('active resources (sockets, timers, ...)', r.resources),
    row('outbox (DMs waiting for their peer)', r.outbox),
    row('open peer connections', r.openConnections),
    '',
    `Over the run: ${fmt(r.connections)} peer connections, ${fmt(r.drops)} drops without BYE, ${fmt(r.byes)} leaves with BYE, ${fmt(hostile)} hostile connections, ` +
      `${r.rendezvousRestarts} rendezvous restarts. **${fmt(r.dmsAcked)} DMs ACKed** (${fmt(r.dmsAckedByEngine)} by the engine, ${fmt(r.dmsDeliveredByEngine)} of ours by the peers); ` +
      `at the end every peer came back and the outbox drained in ${s(r.drainMs)}; then the history file was read: **${r.lost} lost** (ACKed but not stored, or accepted but never received) ` +
      `and **${r.duplicated} duplicated** (stored more than once); ${fmt(r.resentToPeers)} of our SENDs reached a peer again after a lost connection or ACK, same msg_id.`,
    '',
  ];
}

function markdown(): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    '# Reliability under hostile peers, faults and load',
    '',
    '<!-- Generated by `npm run reliability` (bench/reliability.ts). Do not edit by hand: run it again. -->',
    '',
    `Measured on ${new Date().toISOString().slice(0, 10)} with Node ${process.versions.node}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), everything on 127.0.0.1.`,
    'Each scenario runs at full size against the default bounds; the engine or server under attack runs alone',
    'in a child process, so its memory figures (RSS, and heap plus buffers, after a full GC) are its own.',
    'Loopback figures vary from run to run and machine to machine; the pass/fail bounds are asserted by the',
    'tests named in the last column (`tests/reliability/` unless another folder is named), never by timing.',
    '',
    '## The bounds and their defaults',
    '',
    '| setting (`config.json`) | default | what it bounds |',
    '|---|---|---|',
    `| \`network.max_pending_handshakes\` | ${defaults.maxPendingHandshakes} | inbound connections that have not said HELLO yet, from everyone; a newcomer over it takes the place of the oldest pending connection of the IP holding the most, so a flood from many addresses cannot lock a prompt peer out |`,
    `| \`network.max_pending_per_ip\` | ${defaults.maxPendingPerIp} | the same, from one IP: one host cannot take every handshake slot; more from it are closed at accept, before a byte is read |`,
    `| \`network.max_connections_per_ip\` | ${fmt(defaults.maxConnectionsPerIp)} | inbound connections from one IP, before and after HELLO |`,
    `| \`network.max_concurrent_dials\` | ${defaults.maxConcurrentDials} | our own dials waiting for HELLO_OK at once; the rest of a long DISCOVER list waits its turn |`,
    `| rendezvous server connections | 16,384 | client connections held at once; at the cap a newcomer takes the place of the oldest silent connection of the IP holding the most (then of one lingering after its reply) |`,
    `| \`network.max_write_queue_bytes\` | ${kib(defaults.maxWriteQueueBytes)} | bytes waiting to reach one peer (Node's socket buffer plus our queue); over it the peer is not reading and is dropped |`,
    `| \`network.handshake_timeout\` | ${s(defaults.handshakeTimeoutMs)} | how long a connection may stay before HELLO / HELLO_OK |`,
    `| \`network.max_strikes\` | ${defaults.maxStrikes} | bad frames before a connection is closed |`,
    '| line limit (protocol) | 32,768 bytes | one frame; a longer line closes the connection as soon as it outgrows the limit |',
    '| PONG coalescing | 1 queued | a PING that arrives while our PONG still waits replaces it, so a PING flood queues nothing |',
    '',
    'Why these numbers: many honest peers share one IP behind NAT or on one machine (PROTOCOL.md §2), and our',
    'own tests, end-to-end runs and `npm run bench:engine` (1,000 peers, dialing 50 at a time) all run on',
    '127.0.0.1. So the per-IP caps are ceilings rather than fairness rules: `max_pending_per_ip` (64) is above',
    'the 50 simultaneous handshakes of the benchmark and far above any test, and still half of the global 128, so',
    'one host can never take all the handshake slots; `max_connections_per_ip` (1,024) is above the benchmark\'s',
    '1,000 peers and far above a whole class behind one NAT. The write queue limit is twice the',
    'largest legitimate burst (a full pipeline window of 64 frames of 32 KiB) so that a slow but reading peer',
    'is never mistaken for one that does not read. Refused connections are closed without a word: PROTOCOL.md',
    'defines no refusal message for peers, and closing before answering is what existing peers do to a dial they',
    'do not want (§4). What the refused client already sent is read and dropped, so it sees an orderly end, not a',
    'reset; refusals are logged once per second with a count, so a flood does not become a flood of log lines.',
    'A slot is a turn to say HELLO, not a lock: when all 128 are taken, the newcomer evicts rather than being',
    'refused, so a peer that says HELLO within its first moments gets in however many addresses a flood uses;',
    'an attacker can only evict other pending handshakes, never a peer past HELLO. The rendezvous server does',
    'the same with its connections (16,384, below the 20,000 descriptors a process gets here).',
    '',
  ];
  for (const area of ['Engine', 'Rendezvous server', 'Faults', 'Desktop boundary'] as const) {
    lines.push(`## ${area}`, '', '| scenario | bound enforced | measured | test |', '|---|---|---|---|');
    for (const r of rows.filter((row) => row.area === area)) lines.push(`| ${escape(r.scenario)} | ${escape(r.bound)} | ${escape(r.measured)} | ${escape(r.test)} |`);
    lines.push('');
  }
  lines.push(...soakSection());
  lines.push(
    '## Known gaps (reported, not fixed here)',
    '',
    '- **A rendezvous request cut by a server restart looks like the rate limit\'s drop** (closed without reply),',
    '  and the engine backs off from the server for 60 s. Correct for the limit, slow for a restart.',
    '- **Many open connections to one host are not capped.** Dials are now capped in flight',
    '  (`max_concurrent_dials`), but a host that registers many names and answers every HELLO still has us',
    '  hold one open connection per name.',
    '- **After a flood of many thousands of connections the RSS stays near its high-water mark** (see the',
    '  reopening flood and the 17,000-connection rows): heap and buffers return to their size before, the process',
    '  keeps the memory it freed. Four such 8 s floods in a row, measured by hand, raised it only once (246, 269,',
    '  269, 269 MB), and the hour of churn below stays flat.',
    '- **A flood from more addresses than there are handshake slots can still evict a newcomer before its HELLO**:',
    '  when every address holds one pending connection, the oldest goes, so a peer is lost if 128 connections',
    '  arrive from other addresses between its connect and its HELLO. On loopback that gap is under a',
    '  millisecond; the 10 s flood above (over 150,000 connections from 32 addresses) lost no peer.',
    '',
    '## Fixed along the way',
    '',
    '- 320 silent connections from 8 addresses (40 each, under the per-IP cap) filled all 128 handshake slots and',
    '  a newcomer was refused until they timed out; an attacker reopening as fast as we closed kept everyone out.',
    '  A newcomer now takes the place of the oldest pending connection of the IP holding the most.',
    '- A peer that shared its IP did not notice that a restarted rendezvous server had lost its record: the',
    '  server answers DISCOVER per IP, so once one peer of the IP had registered again, the others stayed',
    '  unregistered until their TTL renewal. A peer now registers again when DISCOVER lists no record of its own.',
    '- A huge name or namespace was walked character by character before its length was checked',
    '  (`validateIdentityField`); it is now refused at once, as `isValidPeerId` is.',
    '- A Date or a Map (which IPC carries) passed as an empty settings patch or history query; only plain',
    '  objects pass now.',
    '- The rendezvous server answered a request nested a few thousand levels deep (within the 32 KiB line)',
    '  with `Maximum call stack size exceeded` and logged a stack trace: the JSON reader now refuses nesting',
    '  deeper than Python\'s recursion limit (1,000), so the reply is `Unknown command` as for other invalid JSON.',
    '- The rendezvous log line of an UNREGISTER with a bad port quoted the client\'s value as it was, newlines',
    '  included (a forged log line); it is now escaped and shortened like every other client value, and the',
    '  Unicode line separators and C1 controls, which JSON leaves as they are, are escaped too.',
    '- `isValidPeerId` walked a whole multi-megabyte string before refusing it; it now checks the length first.',
    '',
  );
  return lines.join('\n');
}

if (process.argv.includes('--soak')) {
  // Only the soak's section, from docs/soak.json, into the document as it stands.
  const doc = readFileSync(DOC, 'utf8');
  const at = doc.indexOf('## Soak: an hour of churn');
  const end = at === -1 ? -1 : doc.indexOf('\n## ', at + 1);
  if (at === -1 || end === -1) throw new Error(`${DOC} has no soak section: run npm run reliability in full`);
  writeFileSync(DOC, doc.slice(0, at) + soakSection().join('\n') + doc.slice(end));
  log(`wrote the soak section of ${DOC}`);
  process.exit(0);
}
const started = performance.now();
const rdv = await quietServer();
try {
  await engineScenarios(rdv);
  await rendezvousScenarios();
  await faultScenarios();
  await boundaryScenarios();
} finally {
  await rdv.close();
}
writeFileSync(DOC, markdown());
log(`wrote ${DOC} in ${s(performance.now() - started)}`);
process.stdout.write(JSON.stringify({ rows: rows.map(({ area, scenario, data }) => ({ area, scenario, ...data })) }, null, 2) + '\n');
