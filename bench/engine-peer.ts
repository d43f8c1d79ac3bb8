// The other peers for bench/engine.ts, on raw sockets and in their own process, so that they do
// not share the event loop (or the core) of the engine under test. Two roles, chosen by argv[2]:
//
//   ack-server  a minimal PyP2P peer: HELLO -> HELLO_OK, SEND -> ACK, PING -> PONG, BYE -> BYE_OK.
//               One listener per entry of ACK_PEERS; only `floor-pipelined` advertises
//               chatp2p-pipeline, so `floor` is a legacy peer (the engine runs stop-and-wait) and
//               `floor-pipelined` gets a window of SENDs in flight.
//   dialers     opens argv[4] connections to 127.0.0.1:argv[3], each saying HELLO as a distinct
//               peer_id (p0001@MEM, ...), and keeps them open, answering PING and BYE.
//
// Both talk to the parent over IPC (see PeerReport); the parent sends 'stop' to end them.

import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CHALLENGE_FIELD, answerFields } from '../src-main/engine/extensions/negotiation.ts';
import { FEATURE_PIPELINE } from '../src-main/engine/extensions/pipeline.ts';

// The parent imports only types from here: importing this module runs a role.
const ACK_PEERS = [
  { name: 'floor', features: ['ack', 'metrics'] },
  { name: 'floor-pipelined', features: ['ack', 'metrics', FEATURE_PIPELINE] },
] as const;
const ACK_NAMESPACE = 'BENCH';
const DIALER_NAMESPACE = 'MEM';

export interface AckPeer {
  name: string;
  namespace: string;
  peerId: string;
  port: number;
  pipelined: boolean;
}

export type PeerReport =
  | { type: 'listening'; peers: AckPeer[] }
  | { type: 'dialed'; open: number; failed: number; firstError: string | undefined; ms: number };

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
  for (const peer of ACK_PEERS) {
    const self = `${peer.name}@${ACK_NAMESPACE}`;
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      serveLines(socket, (message) => {
        if (message.type === 'SEND') {
          return message.require_ack === false ? undefined : frame({ type: 'ACK', msg_id: message.msg_id, timestamp: now(), ttl: 1 });
        }
        return answerCommon(socket, message, self, peer.features);
      });
    });
    server.listen({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    servers.push(server);
    const port = (server.address() as { port: number }).port;
    peers.push({ name: peer.name, namespace: ACK_NAMESPACE, peerId: self, port, pipelined: (peer.features as readonly string[]).includes(FEATURE_PIPELINE) });
  }
  send({ type: 'listening', peers });
  await once(process, 'message');
  for (const server of servers) server.close();
  for (const socket of sockets) socket.destroy();
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
else if (role === 'dialers') await dialers(Number(port), Number(count));
else throw new Error(`unknown role ${role}`);
process.disconnect();
