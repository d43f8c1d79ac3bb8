import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Logger, streamSink, type ModuleLogger } from '../engine/log.ts';
import { ConnectionAdmission } from './admission.ts';
import { BackendUnavailableError, type RendezvousBackend } from './backend.ts';
import { errorReply, handleRequest } from './handler.ts';
import { pyJsonDumps } from './python-compat.ts';
import { blockedMessage } from './rate-limiter.ts';
import type { RedisBackendOptions } from './redis-backend.ts';
import { SqliteBackend } from './sqlite-backend.ts';

/** A request line may hold at most this many bytes, its newline included (PROTOCOL.md §2). */
export const MAX_LINE_BYTES = 32768;

export interface RendezvousServerOptions {
  /** Interface to listen on; default '0.0.0.0'. */
  host?: string;
  /** TCP port; default 8080, 0 picks a free one. */
  port?: number;
  /** SQLite file that keeps registrations across restarts; default ':memory:' (none). */
  db?: string;
  /** Keep the registry and the rate limit in Redis instead, shared with every instance that uses it. */
  redis?: Pick<RedisBackendOptions, 'url' | 'prefix'>;
  /** Connections one IP may open per window before it is blocked; default 50. */
  maxRequests?: number;
  windowMs?: number;
  blockMs?: number;
  /** How long a client has to send a complete request line; default 5000. */
  requestTimeoutMs?: number;
  /** After replying, how long a client has to read the reply and close before it is dropped. */
  lingerMs?: number;
  /** Connections held at once; at the cap a newcomer takes the place of a silent one (admission.ts). Default 16384. */
  maxConnections?: number;
  sweepIntervalMs?: number;
  /** Wall clock in epoch milliseconds; injected so tests can move time. Redis keeps its own clock. */
  now?: () => number;
  logger?: Logger;
}

export interface RendezvousServer {
  readonly host: string;
  readonly port: number;
  /** Registrations currently held (live and not yet swept). */
  readonly registrations: number;
  /** Client connections open right now (waiting, being answered, or lingering after the reply). */
  readonly connections: number;
  close(): Promise<void>;
}

const TIMEOUT_REPLY = errorReply('Timeout: no data received, closing connection');
const EMPTY_REPLY = errorReply('Empty request line');
// The newest reference server's reply: the text under "message" like every other error, plus the limit.
const LINE_TOO_LONG_REPLY = pyJsonDumps({ status: 'ERROR', message: 'line_too_long', limit: MAX_LINE_BYTES });

/** Bytes Python's bytes.strip() removes: a line of only these is an empty request. */
const isBlank = (buf: Buffer) => buf.every((b) => b === 0x20 || (b >= 0x09 && b <= 0x0d));

/** A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; the registry keys on a.b.c.d. */
const plainIp = (address: string) => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

export async function startRendezvousServer(options: RendezvousServerOptions = {}): Promise<RendezvousServer> {
  const now = options.now ?? Date.now;
  const log: ModuleLogger = (options.logger ?? new Logger({ sink: streamSink() })).module('Rendezvous');
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const lingerMs = options.lingerMs ?? 5000;
  const limit = { maxConnections: options.maxRequests ?? 50, windowMs: options.windowMs ?? 60_000, blockMs: options.blockMs ?? 60_000 };
  // Redis's client is loaded only when asked for: the desktop app embeds this server and does not ship it.
  const backend: RendezvousBackend = options.redis
    ? await (await import('./redis-backend.ts')).RedisBackend.connect({ ...options.redis, ...limit, log })
    : new SqliteBackend({ db: options.db ?? ':memory:', ...limit, now });
  const sockets = new Set<Socket>();
  const held = new ConnectionAdmission(options.maxConnections ?? 16_384, log, now);

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A reset from a client that gave up is routine; the socket is gone either way.
    socket.on('error', () => socket.destroy());
    serve(socket);
  });

  function serve(socket: Socket): void {
    if (socket.remoteAddress === undefined) return void socket.destroy();
    const ip = plainIp(socket.remoteAddress);
    const peer = `${ip}:${socket.remotePort}`;
    held.admit(socket, ip, peer);

    const chunks: Buffer[] = [];
    let size = 0;
    let answered = false;
    // The line is read while the rate limit is asked; it is answered once the connection is admitted.
    let admitted = false;
    let onLine: (() => void) | undefined;
    const lineRead = (then: () => void) => {
      onLine = then;
      if (admitted) then();
    };
    const deadline = setTimeout(() => {
      log.warn(`${peer} sent no complete request within ${requestTimeoutMs} ms`);
      answer(TIMEOUT_REPLY);
    }, requestTimeoutMs);
    backend.admit(ip).then(
      (admission) => {
        if (answered) return;
        if (admission.kind === 'drop') {
          log.warn(`${peer} exceeded ${backend.maxConnections} connections per window: closed and blocked`);
          answered = true;
          clearTimeout(deadline);
          return void socket.destroy();
        }
        if (admission.kind === 'blocked') {
          log.debug(`${peer} is blocked for ${admission.secondsLeft} s more`);
          return answer(errorReply(blockedMessage(ip, socket.remotePort ?? 0, backend.maxConnections, admission.secondsLeft)));
        }
        admitted = true;
        onLine?.();
      },
      (err: Error) => fail(err),
    );

    socket.on('data', (chunk: Buffer) => {
      if (answered || onLine) return; // only the first line is answered; the rest is drained and dropped
      const newline = chunk.indexOf(0x0a);
      if (newline !== -1 && size + newline + 1 <= MAX_LINE_BYTES) {
        chunks.push(chunk.subarray(0, newline));
        const line = Buffer.concat(chunks);
        return lineRead(() => respond(line));
      }
      if (newline !== -1 || size + chunk.length > MAX_LINE_BYTES) {
        log.warn(`${peer} sent a request line over ${MAX_LINE_BYTES} bytes`);
        return lineRead(() => answer(LINE_TOO_LONG_REPLY));
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    socket.on('end', () => {
      // End of stream also ends a request that had no newline.
      if (!answered && !onLine) {
        const line = Buffer.concat(chunks);
        lineRead(() => respond(line));
      }
    });

    function respond(line: Buffer): void {
      held.answering(socket);
      if (isBlank(line)) {
        log.warn(`${peer} sent an empty request line`);
        return answer(EMPTY_REPLY);
      }
      clearTimeout(deadline);
      handleRequest(line.toString('utf8'), ip, backend).then((outcome) => {
        log.info(outcome.summary);
        answer(outcome.reply);
      }, fail);
    }

    /** Like the reference: a failure inside a request (disk full, say) is that request's error. */
    function fail(err: Error): void {
      // An unavailable backend has logged its cause already, at most once a second.
      if (!(err instanceof BackendUnavailableError)) log.error(`${peer} request failed: ${err.stack ?? String(err)}`);
      answer(errorReply(String(err.message ?? err)));
    }

    function answer(reply: string): void {
      if (answered) return;
      answered = true;
      clearTimeout(deadline);
      chunks.length = 0;
      replyAndClose(socket, reply);
    }
    socket.on('close', () => clearTimeout(deadline));
  }

  /**
   * Sends the one reply and half-closes. What the client still sends is read and dropped, so that
   * closing does not reset the connection before the client has read the reply; a client that has
   * not closed its side `lingerMs` later is dropped whatever it does.
   */
  function replyAndClose(socket: Socket, reply: string): void {
    held.answered(socket);
    socket.end(reply + '\n');
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), lingerMs);
    socket.once('close', () => clearTimeout(linger));
  }

  const sweep = setInterval(() => {
    backend.sweep().then(
      (expired) => expired > 0 && log.info(`swept ${expired} expired registration(s)`),
      (err: Error) => err instanceof BackendUnavailableError || log.error(`sweep failed: ${err.message}`),
    );
  }, options.sweepIntervalMs ?? 30_000);
  sweep.unref();

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host ?? '0.0.0.0', port: options.port ?? 8080, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    clearInterval(sweep);
    await backend.close();
    throw err;
  }
  server.on('error', (err) => log.error(`listener error: ${err.message}`));
  const address = server.address() as AddressInfo;

  return {
    host: address.address,
    port: address.port,
    get registrations() {
      return backend.registrations;
    },
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        server.close(() => void backend.close().then(resolve));
        for (const s of sockets) s.destroy();
      }),
  };
}
