import { connect, createServer, type Socket } from 'node:net';
import { Logger, formatLogRecord } from '../../src-main/engine/log.ts';
import { startRendezvousServer, type RendezvousServer, type RendezvousServerOptions } from '../../src-main/rendezvous-server/server.ts';

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
}

/** Connects to 127.0.0.1, writes `data`, reads until the server closes the connection. */
export function exchange(port: number, data: string | Buffer, options: ExchangeOptions = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port, allowHalfOpen: options.halfOpen ?? false });
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

/** A port on 127.0.0.1 nothing listens on (taken from the OS, then let go): a server that does not answer. */
export async function silentPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
