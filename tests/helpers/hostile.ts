// Hostile and faulty parties on loopback, for tests/reliability and bench/reliability.ts: many raw
// connections at once (from one address or many: attackers use 127.0.0.10 and up), floods that do
// not read, and a proxy that drops a connection mid-frame.
// Node only (no vitest), so the benchmark's worker thread can use them too.

import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** One raw client connection and what it saw. */
export interface RawClient {
  socket: Socket;
  /** Bytes the other side sent us. */
  received: number;
  /** The first bytes it sent (up to 4 KiB), as text. */
  text: string;
  /** It closed its side in order (FIN), rather than resetting. */
  ended: boolean;
  /** The error code, if the connection failed or was reset. */
  error: string | undefined;
  closed: Promise<void>;
  isClosed: boolean;
}

export interface OpenOptions {
  /** Connections started together, before waiting for them to connect (default 250). */
  batch?: number;
  /** Called once connected; e.g. to write a HELLO. */
  onConnect?: (socket: Socket, index: number) => void;
  /** The address connection `index` comes from (default: the OS's choice, 127.0.0.1). */
  from?: (index: number) => string;
}

/** Attacker `index` of a flood spread over `addresses` loopback addresses from 127.0.0.10 up. */
export const attackerAddress = (addresses: number) => (index: number) => `127.0.0.${10 + (index % addresses)}`;

/**
 * Opens `count` connections to 127.0.0.1:port, in batches that the listen backlog can take, and
 * resolves once all are connected (or failed). Each keeps a record of what it saw until closed.
 */
export async function openClients(port: number, count: number, options: OpenOptions = {}): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  const batch = options.batch ?? 250;
  for (let start = 0; start < count; start += batch) {
    const connected: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const socket = connect({ host: '127.0.0.1', port, localAddress: options.from?.(i) });
      const client: RawClient = { socket, received: 0, text: '', ended: false, error: undefined, closed: undefined as never, isClosed: false };
      client.closed = new Promise((resolve) =>
        socket.once('close', () => {
          client.isClosed = true;
          resolve();
        }),
      );
      socket.on('data', (chunk: Buffer) => {
        if (client.received < 4096) client.text += chunk.subarray(0, 4096 - client.received).toString('utf8');
        client.received += chunk.length;
      });
      socket.on('end', () => (client.ended = true));
      socket.on('error', (err: NodeJS.ErrnoException) => (client.error = err.code ?? err.message));
      connected.push(
        new Promise<void>((resolve) => {
          socket.once('connect', () => {
            options.onConnect?.(socket, i);
            resolve();
          });
          socket.once('close', () => resolve());
        }),
      );
      clients.push(client);
    }
    await Promise.all(connected);
  }
  return clients;
}

export const helloLine = (peerId: string, features: string[] = ['ack']) =>
  JSON.stringify({ type: 'HELLO', peer_id: peerId, version: '1.0', features, ttl: 1 }) + '\n';

/** Resolves with the first line the socket receives (parsed), or undefined if it closes first. */
export function firstLine(socket: Socket): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl === -1) return;
      socket.off('data', onData);
      resolve(JSON.parse(text.slice(0, nl)) as Record<string, unknown>);
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(undefined));
  });
}

export interface FloodResult {
  /** Frames written before the other side closed the connection (or the flood ran out). */
  frames: number;
  /** The other side closed the connection. */
  closed: boolean;
}

/**
 * Writes `frame` (one JSON line) over and over, `perWrite` at a time, until the socket closes or
 * `maxFrames` are written. Waits for each write to be taken, so the flood itself buffers little.
 */
export async function flood(socket: Socket, frame: string, maxFrames: number, perWrite = 500): Promise<FloodResult> {
  const chunk = Buffer.from(frame.repeat(perWrite));
  let frames = 0;
  let closed = socket.destroyed;
  const onClose = () => (closed = true);
  socket.once('close', onClose);
  socket.on('error', () => undefined);
  while (!closed && frames < maxFrames) {
    await new Promise<void>((resolve) => {
      if (!socket.writable) return resolve();
      socket.write(chunk, () => resolve());
    });
    if (!socket.writable) {
      closed = true;
      break;
    }
    frames += perWrite;
  }
  if (!closed) await new Promise((r) => setTimeout(r, 0));
  socket.off('close', onClose);
  return { frames, closed: closed || socket.destroyed };
}

/**
 * A TCP proxy in front of a listener, as the network between two peers: it passes bytes both ways
 * until told to drop the next connection partway through a frame that contains `marker`.
 */
export class CuttingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private cut: { marker: string; direction: 'toTarget' | 'toClient' } | undefined;
  port = 0;
  /** Connections it dropped mid-frame. */
  cuts = 0;
  private readonly targetPort: number;
  private readonly targetHost: string;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.targetPort = targetPort;
    this.targetHost = targetHost;
  }

  async listen(port = 0): Promise<number> {
    const server = createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /**
   * The next chunk going that way that contains `marker` is cut halfway through it: the first half
   * is delivered, then both sides of that connection are reset, as a network failure does.
   */
  cutNext(marker: string, direction: 'toTarget' | 'toClient'): void {
    this.cut = { marker, direction };
  }

  /** Stops passing bytes either way (they wait in the sockets), as a network that stalls does; `resume` passes them on. */
  pause(): void {
    for (const s of this.sockets) s.pause();
  }

  resume(): void {
    for (const s of this.sockets) s.resume();
  }

  /** Resets every connection through it now (and keeps listening), as a Wi-Fi drop does. */
  dropAll(): void {
    this.cuts += 1;
    for (const s of this.sockets) s.resetAndDestroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private pipe(client: Socket): void {
    const target = connect({ host: this.targetHost, port: this.targetPort });
    for (const s of [client, target]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    const forward = (from: Socket, to: Socket, direction: 'toTarget' | 'toClient') => {
      from.on('data', (chunk: Buffer) => {
        const cut = this.cut;
        const at = cut && cut.direction === direction ? chunk.indexOf(cut.marker) : -1;
        if (at === -1) {
          to.write(chunk);
          return;
        }
        this.cut = undefined;
        this.cuts += 1;
        // Up to the middle of the frame that holds the marker, then the connection is gone.
        const lineStart = chunk.lastIndexOf(0x0a, at) + 1;
        const lineEnd = chunk.indexOf(0x0a, at);
        const middle = lineStart + Math.floor(((lineEnd === -1 ? chunk.length : lineEnd) - lineStart) / 2);
        to.write(chunk.subarray(0, middle), () => {
          to.resetAndDestroy();
          from.resetAndDestroy();
        });
      });
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    };
    forward(client, target, 'toTarget');
    forward(target, client, 'toClient');
  }
}
