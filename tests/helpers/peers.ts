// Engines and scripted peers on 127.0.0.1 for the engine's integration tests.

import { createServer, connect, type Server, type Socket } from 'node:net';
import { Engine } from '../../src-main/engine/engine.ts';
import type { PeerManager } from '../../src-main/engine/peers/manager.ts';
import { defaultConfig, mergeConfig, type ConfigOverrides, type EngineConfig } from '../../src-main/engine/config.ts';
import type { EngineEvents, IncomingMessage, OutgoingMessage, PeerView } from '../../src-main/engine/api.ts';
import type { MessageStore } from '../../src-main/engine/store/store.ts';
import { CHALLENGE_FIELD, answerFields } from '../../src-main/engine/extensions/negotiation.ts';
import { register } from './rendezvous.ts';

/** An engine with fast timers, and everything it emitted. */
export interface TestEngine {
  engine: Engine;
  messages: IncomingMessage[];
  deliveries: OutgoingMessage[];
  logs: string[];
  peer(peerId: string): PeerView | undefined;
}

const running = new Set<Engine>();

/** The config of a test engine on 127.0.0.1: timers that find and reach peers within a second. */
export function testEngineConfig(rendezvousPort: number, name: string, namespace: string, ...overrides: ConfigOverrides[]): EngineConfig {
  return mergeConfig(
    defaultConfig({ name, namespace, port: 0 }),
    {
      listenHost: '127.0.0.1',
      rendezvous: { host: '127.0.0.1', port: rendezvousPort, discoverIntervalMs: 200, maxRequestsPerMinute: 49 },
      network: { ackTimeoutMs: 1_000, handshakeTimeoutMs: 1_000, byeTimeoutMs: 500 },
      peerConnection: { backoffBaseMs: 50, backoffMaxMs: 200 },
      logging: { level: 'DEBUG' },
    },
    ...overrides,
  );
}

/** `store`: a history file the test opened (and closes after stopping the engine); default in memory. */
export async function startEngine(rendezvousPort: number, name: string, namespace: string, overrides: ConfigOverrides = {}, store?: MessageStore): Promise<TestEngine> {
  const engine = new Engine({ config: testEngineConfig(rendezvousPort, name, namespace, overrides), store });
  const t: TestEngine = { engine, messages: [], deliveries: [], logs: [], peer: (id) => engine.peers().find((p) => p.peerId === id) };
  engine.on('message', (m) => t.messages.push(m));
  engine.on('delivery', (d) => t.deliveries.push(d));
  engine.on('log', (l) => t.logs.push(`${l.level} [${l.module}] ${l.message}`));
  running.add(engine);
  await engine.start();
  return t;
}

/** Stops every engine the test started (BYE, UNREGISTER). */
export async function stopEngines(): Promise<void> {
  await Promise.all([...running].map((e) => e.stop()));
  running.clear();
}

/**
 * The engine's peer layer, for the structural bounds a test asserts (connections held, bytes
 * queued): the facade does not expose them, so this reaches past its `private`.
 */
export function peerManagerOf(engine: Engine): PeerManager {
  const manager = (engine as unknown as { manager?: PeerManager }).manager;
  if (manager === undefined || typeof manager.stats !== 'function') throw new Error('the Engine no longer keeps its PeerManager in `manager`');
  return manager;
}

/** Polls until `check` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with the next event of this kind that matches. */
export function nextEvent<K extends keyof EngineEvents>(engine: Engine, name: K, match: (p: EngineEvents[K]) => boolean, timeoutMs = 8_000): Promise<EngineEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`no matching ${name} event`))), timeoutMs);
    const off = engine.on(name, (p) => {
      if (match(p)) {
        clearTimeout(timer);
        off();
        resolve(p);
      }
    });
  });
}

export type Frame = Record<string, unknown>;

export interface ScriptedPeerOptions {
  peerId: string;
  features?: string[];
  /**
   * Read as several course clients do: keep only the first line of each socket read and drop
   * the rest (PROTOCOL.md §4).
   */
  firstLineOnly?: boolean;
  /** Reads again only this long after each read, as a busy client on a loaded machine does. */
  readEveryMs?: number;
  /** Answers SEND with ACK (default true); a function decides per frame. */
  ack?: boolean | ((frame: Frame) => boolean);
  /** Answers PING with PONG (default true). */
  pong?: boolean;
  /** Extra fields for our ACKs, or fields to drop (undefined). */
  ackShape?: (frame: Frame) => Frame;
  /** Answers HELLO with a copy of it, `features` and every other field, as one course client does. */
  echoHello?: boolean;
  /** The peer_id our HELLO_OK names; `dialer`: the HELLO's own, as another course client does. */
  helloOkPeerId?: string;
  /** Answers BYE with a BYE_OK of a fresh msg_id and `dest` for `dst`, and does not close. */
  oddByeOk?: boolean;
  /** Drops the connection without BYE on reading any PUB, as a course client whose reader crashes on one. */
  dropsOnPub?: boolean;
}

/**
 * A hand-written PyP2P peer: listens, answers HELLO/PING/SEND/BYE as a course client does, and
 * records every frame it reads. It can also dial.
 */
export class ScriptedPeer {
  readonly options: ScriptedPeerOptions;
  readonly frames: Frame[] = [];
  /** What a first-line reader threw away: every line after the first of a read. */
  readonly dropped: Frame[] = [];
  readonly sockets = new Set<Socket>();
  server: Server | undefined;
  port = 0;
  private readonly waiters = new Set<(frame: Frame) => void>();

  constructor(options: ScriptedPeerOptions) {
    this.options = options;
  }

  async listen(port = 0): Promise<number> {
    const server = createServer((socket) => this.attach(socket, 'inbound'));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  /** REGISTERs this peer with the rendezvous server, as `name@namespace` at our port. */
  async register(rendezvousPort: number): Promise<void> {
    const [name, namespace] = this.options.peerId.split('@') as [string, string];
    const reply = await register(rendezvousPort, name, namespace, this.port);
    if (reply.status !== 'OK') throw new Error(`REGISTER failed: ${JSON.stringify(reply)}`);
  }

  /** Dials an engine (from `from`, default the OS's choice) and says HELLO; resolves with the socket once connected. */
  dial(port: number, peerId = this.options.peerId, from?: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: from });
      socket.once('error', reject);
      socket.once('connect', () => {
        this.attach(socket, 'outbound');
        socket.write(JSON.stringify({ type: 'HELLO', peer_id: peerId, version: '1.0', features: this.options.features ?? ['ack'], ttl: 1 }) + '\n');
        resolve(socket);
      });
    });
  }

  /** Resolves with the next frame read that matches (frames read before the call do not count). */
  nextFrame(match: (frame: Frame) => boolean, timeoutMs = 8_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error('no matching frame'));
      }, timeoutMs);
      const waiter = (frame: Frame) => {
        if (!match(frame)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(frame);
      };
      this.waiters.add(waiter);
    });
  }

  of(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Drops every connection without BYE, as a killed process does. */
  kill(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.kill();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  write(socket: Socket, frame: Frame): void {
    socket.write(JSON.stringify(frame) + '\n');
  }

  private attach(socket: Socket, direction: 'inbound' | 'outbound'): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    /** Set while a slow reader is busy: what arrives meanwhile is its next read, all of it at once. */
    let busy: NodeJS.Timeout | undefined;
    const read = () => {
      const nl = buffer.indexOf('\n');
      if (nl === -1) return;
      let lines: string[];
      if (this.options.firstLineOnly) {
        lines = [buffer.slice(0, nl)];
        for (const rest of buffer.slice(nl + 1).split('\n')) if (rest.trim()) this.dropped.push(JSON.parse(rest) as Frame);
        buffer = '';
      } else {
        lines = buffer.split('\n');
        buffer = lines.pop()!;
      }
      for (const line of lines) if (line.trim() && !socket.destroyed) this.onFrame(socket, JSON.parse(line) as Frame, direction);
      const pause = this.options.readEveryMs;
      if (pause !== undefined) {
        busy = setTimeout(() => {
          busy = undefined;
          read();
        }, pause);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (busy === undefined) read();
    });
    socket.on('close', () => clearTimeout(busy));
  }

  private onFrame(socket: Socket, frame: Frame, direction: 'inbound' | 'outbound'): void {
    this.frames.push(frame);
    for (const waiter of this.waiters) waiter(frame);
    const o = this.options;
    switch (frame.type) {
      case 'HELLO': {
        if (direction !== 'inbound') return;
        const peerId = o.helloOkPeerId === 'dialer' ? frame.peer_id : (o.helloOkPeerId ?? o.peerId);
        const features = o.features ?? ['ack'];
        // A peer given one of our extension tokens implements it, so it answers the challenge too.
        const proof = answerFields(frame[CHALLENGE_FIELD], features);
        const helloOk = o.echoHello ? { ...frame, type: 'HELLO_OK' } : { type: 'HELLO_OK', version: '1.0', features, ...proof, ttl: 1 };
        this.write(socket, { ...helloOk, peer_id: peerId });
        return;
      }
      case 'PING':
        if (o.pong ?? true) this.write(socket, { type: 'PONG', msg_id: frame.msg_id, timestamp: new Date().toISOString(), ttl: 1 });
        return;
      case 'SEND': {
        const ack = typeof o.ack === 'function' ? o.ack(frame) : (o.ack ?? true);
        const base = { type: 'ACK', msg_id: frame.msg_id, timestamp: new Date().toISOString(), ttl: 1 };
        if (ack) this.write(socket, o.ackShape ? o.ackShape(base) : base);
        return;
      }
      case 'PUB':
        if (o.dropsOnPub) socket.destroy();
        return;
      case 'BYE':
        if (o.oddByeOk) {
          this.write(socket, { type: 'BYE_OK', msg_id: `bye-ok-${Date.now()}`, src: o.peerId, dest: frame.src, ttl: 1 });
          return;
        }
        this.write(socket, { type: 'BYE_OK', msg_id: frame.msg_id, src: o.peerId, dst: frame.src, ttl: 1 });
        socket.end();
        return;
    }
  }
}
