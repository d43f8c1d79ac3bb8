import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { Logger, formatLogRecord } from '../../src-main/engine/log.ts';
import { startRendezvousServer, type RendezvousServer, type RendezvousServerOptions } from '../../src-main/rendezvous-server/server.ts';
import { startRedis, type TestRedis } from './redis.ts';

/** What a client observed on one rendezvous connection. */
export interface Exchange {
  /** Every byte the server sent before closing, as text. */
  reply: string;
  /** The client's own port, which the block message quotes. */
  localPort: number;
}

export interface ExchangeOptions {
  /** Half-close after writing `data`, as a client that ends its request by end of stream. */
  end?: boolean;
  /** Keep writing `bytes` every `everyMs` until the server closes, as a slow or hostile client. */
  drip?: { bytes: string | Buffer; everyMs: number };
  /** Do not close our side when the server closes its own: only the server can end it. */
  halfOpen?: boolean;
  /** The client's address, 127.0.0.1 unless given. */
  from?: string;
}

/** Connects to 127.0.0.1, writes `data`, reads until the server closes the connection. */
export function exchange(port: number, data: string | Buffer, options: ExchangeOptions = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: options.from, allowHalfOpen: options.halfOpen ?? false });
    const received: Buffer[] = [];
    let localPort = 0;
    let drip: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      localPort = socket.localPort!;
      if (data.length > 0) socket.write(data);
      if (options.end) socket.end();
      const { bytes, everyMs } = options.drip ?? {};
      if (bytes !== undefined) drip = setInterval(() => socket.writable && socket.write(bytes), everyMs);
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // A reset after the reply still leaves the reply readable; report what arrived.
    socket.on('error', (err: NodeJS.ErrnoException) => (['ECONNRESET', 'EPIPE'].includes(err.code!) ? undefined : reject(err)));
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ reply: Buffer.concat(received).toString('utf8'), localPort });
    });
  });
}

/** Sends one request object as a JSON line; returns the raw reply line. */
export async function request(port: number, body: unknown): Promise<string> {
  return (await exchange(port, JSON.stringify(body) + '\n')).reply;
}

/** Sends one request object and parses the reply. */
export async function requestJson(port: number, body: unknown): Promise<Record<string, unknown>> {
  return JSON.parse(await request(port, body)) as Record<string, unknown>;
}

export interface TestServer extends RendezvousServer {
  /** Formatted log lines the server wrote. */
  logs: string[];
}

/**
 * A server on 127.0.0.1 and a free port, its log captured. The rate limit is lifted unless a
 * test sets one, since every test client comes from the same IP.
 */
export async function startTestServer(options: RendezvousServerOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const logger = new Logger({ level: 'DEBUG', sink: (r) => logs.push(formatLogRecord(r)) });
  const server = await startRendezvousServer({ host: '127.0.0.1', port: 0, db: ':memory:', maxRequests: 1_000_000, logger, ...options });
  return Object.assign(server, { logs });
}

export const register = (port: number, name: string, namespace: string, peerPort: number, extra: Record<string, unknown> = {}) =>
  requestJson(port, { type: 'REGISTER', name, namespace, port: peerPort, ...extra });

export type BackendName = 'sqlite' | 'redis';
export const BACKENDS: BackendName[] = ['sqlite', 'redis'];

/**
 * Call inside a describe block: returns the server options for that backend. For Redis it starts
 * a redis-server for the block and gives each call keys of their own, so servers started from
 * one result share nothing with the next; `shared` returns the same keys as the call before.
 */
export function useBackend(name: BackendName): (shared?: 'shared') => RendezvousServerOptions {
  if (name === 'sqlite') return () => ({});
  let redis: TestRedis | undefined;
  let registry = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  return (shared) => ({ redis: { url: redis!.url, prefix: `test${shared ? registry : ++registry}:` } });
}

/** A port on 127.0.0.1 nothing listens on (taken from the OS, then let go): a server that does not answer. */
export async function silentPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
