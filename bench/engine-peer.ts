// The other peers for bench/engine.ts, on raw sockets and in their own process, so that they do
// not share the event loop (or the core) of the engine under test. Three roles, chosen by argv[2]:
//
//   ack-server  a minimal PyP2P peer: HELLO -> HELLO_OK, SEND -> ACK, PING -> PONG, BYE -> BYE_OK.
//               One listener per entry of ACK_PEERS; only `floor-pipelined` advertises
//               chatp2p-pipeline (and answers the challenge), so `floor` is a legacy peer (the
//               engine runs stop-and-wait) and `floor-pipelined` gets a window of SENDs in flight.
//               `floor-durable` is `floor` committing each SEND before its ACK (DurableFloor).
//               One more, `first-line`, reads as several course clients do (only the first line
//               of each socket read, PROTOCOL.md §4), echoes our HELLO as its HELLO_OK, counts the
//               lines it drops, and on 'first-line-drive' sends SENDs stop-and-wait itself.
//   driver      a stop-and-wait sender without chatp2p-pipeline, as a course client sends: SEND,
//               wait for the ACK, SEND again. On 'drive' it runs for `ms` against a port (the
//               engine, or the raw ACKer that is its floor) and reports every SEND->ACK time.
//   dialers     opens argv[4] connections to 127.0.0.1:argv[3], each saying HELLO as a distinct
//               peer_id (p0001@MEM, ...), and keeps them open, answering PING and BYE.
//
// All talk to the parent over IPC (see PeerReport); the parent sends 'stop' to end them.

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CHALLENGE_FIELD, answerFields } from '../src-main/engine/extensions/negotiation.ts';
import { FEATURE_PIPELINE } from '../src-main/engine/extensions/pipeline.ts';
import { DurableFloor } from './durable-floor.ts';

// The parent imports only types from here: importing this module runs a role.
const ACK_PEERS = [
  { name: 'floor', features: ['ack', 'metrics'], durable: false },
  { name: 'floor-durable', features: ['ack', 'metrics'], durable: true },
  { name: 'floor-pipelined', features: ['ack', 'metrics', FEATURE_PIPELINE], durable: false },
] as const;
const ACK_NAMESPACE = 'BENCH';
const DIALER_NAMESPACE = 'MEM';

export interface AckPeer {
  name: string;
  namespace: string;
  peerId: string;
  port: number;
  pipelined: boolean;
  /** It commits each SEND before its ACK, as the history does (bench/durable-floor.ts). */
  durable: boolean;
}

export type PeerReport =
  | { type: 'listening'; peers: AckPeer[]; firstLine: AckPeer }
  | { type: 'dialed'; open: number; failed: number; firstError: string | undefined; ms: number }
  | { type: 'driven'; latencies: number[]; ms: number; unanswered: number }
  | { type: 'first-line'; sends: string[]; pubs: number; dropped: number; droppedTypes: Record<string, number>; acked: number; unacked: number };

export type PeerCommand =
  | 'stop'
  | { type: 'drive'; port: number; dst: string; ms: number; payload: string }
  | { type: 'first-line-drive'; count: number; timeoutMs: number }
  | { type: 'first-line-report' };

type Frame = Record<string, unknown>;

const send = (report: PeerReport) => process.send!(report);
const frame = (message: Frame) => JSON.stringify(message) + '\n';
const now = () => new Date().toISOString();

/** Calls `onFrame` for every JSON line; whatever it returns for one read goes out in one write. */
function serveLines(socket: Socket, onFrame: (message: Frame) => string | undefined): void {
  let rest = '';
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    let out = '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof message === 'object' && message !== null) out += onFrame(message as Frame) ?? '';
    }
    if (out !== '' && socket.writable) socket.write(out);
  });
}

/** PING, BYE and, for any peer, HELLO: the answers every role gives alike. */
function answerCommon(socket: Socket, message: Frame, self: string, features: readonly string[]): string | undefined {
  switch (message.type) {
    case 'HELLO':
      // A pipelining peer proves it as ChatP2P does: an answer to the dialer's challenge.
      return frame({ type: 'HELLO_OK', peer_id: self, version: '1.0', features, ...answerFields(message[CHALLENGE_FIELD], features), ttl: 1 });
    case 'PING':
      return frame({ type: 'PONG', msg_id: message.msg_id, timestamp: now(), ttl: 1 });
    case 'BYE':
      setImmediate(() => socket.end());
      return frame({ type: 'BYE_OK', msg_id: message.msg_id, src: self, dst: message.src, ttl: 1 });
    default:
      return undefined;
  }
}

async function ackServer(): Promise<void> {
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const peers: AckPeer[] = [];
  const floors: DurableFloor[] = [];
  for (const peer of ACK_PEERS) {
    const self = `${peer.name}@${ACK_NAMESPACE}`;
    const durable = peer.durable ? new DurableFloor() : undefined;
    if (durable) floors.push(durable);
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      serveLines(socket, (message) => {
        if (message.type === 'SEND') {
          durable?.store(String(message.msg_id), String(message.src), String(message.payload));
          return message.require_ack === false ? undefined : frame({ type: 'ACK', msg_id: message.msg_id, timestamp: now(), ttl: 1 });
        }
        return answerCommon(socket, message, self, peer.features);
      });
    });
    server.listen({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    servers.push(server);
    const port = (server.address() as { port: number }).port;
    peers.push({ name: peer.name, namespace: ACK_NAMESPACE, peerId: self, port, pipelined: (peer.features as readonly string[]).includes(FEATURE_PIPELINE), durable: peer.durable });
  }
  const firstLine = await firstLineReader(sockets, servers);
  send({ type: 'listening', peers, firstLine: firstLine.peer });
  await new Promise<void>((resolve) =>
    process.on('message', (command: PeerCommand) => {
      if (command === 'stop') resolve();
      else if (command.type === 'first-line-drive') void firstLine.drive(command.count, command.timeoutMs);
      else if (command.type === 'first-line-report') firstLine.report();
    }),
  );
  for (const server of servers) server.close();
  for (const socket of sockets) socket.destroy();
  for (const floor of floors) floor.close();
}

/** Reads a socket as a course client that keeps only the first line of each read. */
function firstLineLines(socket: Socket, onFrame: (message: Frame) => void, onDropped: (line: string) => void): void {
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    const lines = chunk.split('\n').filter((l) => l.trim() !== '');
    for (const line of lines.slice(1)) onDropped(line);
    try {
      onFrame(JSON.parse(lines[0] ?? 'null') as Frame);
    } catch {
      onDropped(lines[0] ?? '');
    }
  });
}

/** The type of a line the first-line reader dropped, for the report ('?' when it is no frame). */
function typeOf(line: string): string {
  try {
    const type = (JSON.parse(line) as Frame).type;
    return typeof type === 'string' ? type : '?';
  } catch {
    return '?';
  }
}

/** The `first-line` peer: what it keeps, what it drops, and its own stop-and-wait SENDs. */
async function firstLineReader(sockets: Set<Socket>, servers: Server[]) {
  const self = `first-line@${ACK_NAMESPACE}`;
  const seen = { sends: [] as string[], pubs: 0, dropped: 0, droppedTypes: {} as Record<string, number>, acked: 0, unacked: 0 };
  let current: Socket | undefined;
  let dst = '';
  let awaiting: ((msgId: string) => void) | undefined;
  const server = createServer((socket) => {
    sockets.add(socket);
    current = socket;
    socket.on('close', () => sockets.delete(socket));
    firstLineLines(
      socket,
      (message) => {
        if (message === null || typeof message !== 'object') return;
        if (message.type === 'HELLO') {
          dst = String(message.peer_id);
          socket.write(frame({ ...message, type: 'HELLO_OK', peer_id: self }));
        } else if (message.type === 'SEND') {
          seen.sends.push(String(message.payload));
          socket.write(frame({ type: 'ACK', msg_id: message.msg_id, timestamp: now(), ttl: 1 }));
        } else if (message.type === 'PUB') {
          seen.pubs += 1;
        } else if (message.type === 'ACK') {
          awaiting?.(String(message.msg_id));
        } else {
          const answer = answerCommon(socket, message, self, []);
          if (answer !== undefined) socket.write(answer);
        }
      },
      (line) => {
        seen.dropped += 1;
        const type = typeOf(line);
        seen.droppedTypes[type] = (seen.droppedTypes[type] ?? 0) + 1;
      },
    );
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  servers.push(server);
  return {
    peer: { name: 'first-line', namespace: ACK_NAMESPACE, peerId: self, port: (server.address() as { port: number }).port, pipelined: false, durable: false },
    /** `count` SENDs on the engine's connection, each after the ACK of the last (or a timeout). */
    async drive(count: number, timeoutMs: number): Promise<void> {
      for (let i = 0; i < count && current; i++) {
        const msgId = `first-line-${i}`;
        const acked = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          awaiting = (id) => id === msgId && (clearTimeout(timer), resolve(true));
          current!.write(frame({ type: 'SEND', msg_id: msgId, src: self, dst, payload: `from the first-line reader ${i}`, require_ack: true, timestamp: now(), ttl: 1 }));
        });
        if (acked) seen.acked += 1;
        else seen.unacked += 1;
      }
      awaiting = undefined;
      send({ type: 'first-line', ...seen });
    },
    report(): void {
      send({ type: 'first-line', ...seen });
    },
  };
}

/** The stop-and-wait sender: one connection per port it drives, SEND -> ACK -> SEND for `ms`. */
async function driver(): Promise<void> {
  const self = `driver@${ACK_NAMESPACE}`;
  const connections = new Map<number, { socket: Socket; onAck: (msgId: string) => void }>();
  const open = async (port: number) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await once(socket, 'connect');
    const conn = { socket, onAck: (_msgId: string) => undefined as void };
    let hello: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (hello = resolve));
    serveLines(socket, (message) => {
      if (message.type === 'HELLO_OK') hello();
      else if (message.type === 'ACK') conn.onAck(String(message.msg_id));
      else return answerCommon(socket, message, self, []);
      return undefined;
    });
    socket.write(frame({ type: 'HELLO', peer_id: self, version: '1.0', features: ['ack', 'metrics'], ttl: 1 }));
    await ready;
    connections.set(port, conn);
    return conn;
  };
  const drive = async (port: number, dst: string, ms: number, payload: string) => {
    const conn = connections.get(port) ?? (await open(port));
    const latencies: number[] = [];
    const started = performance.now();
    let unanswered = 0;
    while (performance.now() - started < ms) {
      const msgId = randomUUID();
      const t0 = performance.now();
      const acked = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        conn.onAck = (id) => id === msgId && (clearTimeout(timer), resolve(true));
        conn.socket.write(frame({ type: 'SEND', msg_id: msgId, src: self, dst, payload, require_ack: true, timestamp: now(), ttl: 1 }));
      });
      if (acked) latencies.push(performance.now() - t0);
      else unanswered += 1;
    }
    send({ type: 'driven', latencies, ms: performance.now() - started, unanswered });
  };
  await new Promise<void>((resolve) =>
    process.on('message', (command: PeerCommand) => {
      if (command === 'stop') resolve();
      else if (command.type === 'drive') void drive(command.port, command.dst, command.ms, command.payload);
    }),
  );
  for (const { socket } of connections.values()) socket.destroy();
}

async function dialers(port: number, count: number): Promise<void> {
  const sockets: Socket[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const dial = (i: number) =>
    new Promise<void>((resolve) => {
      const self = `p${String(i + 1).padStart(4, '0')}@${DIALER_NAMESPACE}`;
      const socket = connect({ host: '127.0.0.1', port }, () =>
        socket.write(frame({ type: 'HELLO', peer_id: self, version: '1.0', features: ['ack', 'metrics'], ttl: 1 })),
      );
      sockets.push(socket);
      let settled = false;
      const settle = (error?: string) => {
        if (settled) return;
        settled = true;
        if (error !== undefined) {
          failed += 1;
          firstError ??= `${self}: ${error}`;
        }
        resolve();
      };
      socket.on('close', () => settle('closed before HELLO_OK'));
      serveLines(socket, (message) => {
        if (message.type === 'HELLO_OK') settle();
        return answerCommon(socket, message, self, []);
      });
      socket.on('error', (err) => settle(err.message));
    });
  // In batches, so that the listen backlog never overflows into SYN retries.
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => dial(i + j)));
  }
  send({ type: 'dialed', open: count - failed, failed, firstError, ms: performance.now() - started });
  await once(process, 'message');
  for (const socket of sockets) socket.destroy();
}

const [role, port, count] = process.argv.slice(2);
if (role === 'ack-server') await ackServer();
else if (role === 'driver') await driver();
else if (role === 'dialers') await dialers(Number(port), Number(count));
else throw new Error(`unknown role ${role}`);
process.disconnect();
