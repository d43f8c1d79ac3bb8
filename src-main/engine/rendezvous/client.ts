// One rendezvous request: connect, write one JSON line, read one JSON line, close (PROTOCOL.md §2).

import { connect } from 'node:net';

/** A DISCOVER reply of 10,000 peers is about 1 MB (replies are not held to the 32 KiB request line): room for twice that. */
const MAX_REPLY_BYTES = 2 * 1024 * 1024;

/**
 * `unreachable`: no TCP connection; `timeout`: no reply in time; `no_reply`: closed without a
 * reply (what the server does to the request that trips its rate limit); `blocked`: our IP is
 * blocked; `server`: an ERROR reply; `bad_reply`: a reply we cannot read.
 */
export type RendezvousErrorCode = 'unreachable' | 'timeout' | 'no_reply' | 'blocked' | 'server' | 'bad_reply';

export class RendezvousError extends Error {
  readonly code: RendezvousErrorCode;
  /** For `blocked`: how long the server said the block lasts. */
  readonly retryAfterMs: number | undefined;
  constructor(code: RendezvousErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

const BLOCKED = /has been blocked.*lifted in (\d+) seconds/s;

export interface RendezvousEndpoint {
  host: string;
  port: number;
  timeoutMs: number;
}

/** Sends one request; resolves with the OK reply, rejects with a RendezvousError. */
export function rendezvousRequest(endpoint: RendezvousEndpoint, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const server = `${endpoint.host}:${endpoint.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: Record<string, unknown> | RendezvousError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof RendezvousError) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(
      () => settle(new RendezvousError('timeout', `rendezvous server ${server} did not answer within ${endpoint.timeoutMs / 1000} s`)),
      endpoint.timeoutMs,
    );
    socket.on('connect', () => socket.write(JSON.stringify(body) + '\n'));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a)) settle(readReply(Buffer.concat(chunks).toString('utf8'), server));
      else if (size > MAX_REPLY_BYTES) settle(new RendezvousError('bad_reply', `rendezvous server ${server} sent an oversized reply`));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (chunks.length > 0) settle(readReply(Buffer.concat(chunks).toString('utf8'), server));
      else settle(new RendezvousError('unreachable', `cannot reach rendezvous server ${server}: ${err.code ?? err.message}`));
    });
    socket.on('close', () => {
      if (chunks.length > 0) settle(readReply(Buffer.concat(chunks).toString('utf8'), server));
      else settle(new RendezvousError('no_reply', `rendezvous server ${server} closed the connection without a reply (too many requests from this IP?)`));
    });
  });
}

function readReply(text: string, server: string): Record<string, unknown> | RendezvousError {
  const line = text.split('\n', 1)[0]!;
  const blocked = BLOCKED.exec(line);
  if (blocked) {
    return new RendezvousError('blocked', `rendezvous server ${server} blocked this IP for too many requests; retrying in ${blocked[1]} s`, Number(blocked[1]) * 1000);
  }
  let reply: unknown;
  try {
    reply = JSON.parse(line);
  } catch {
    return new RendezvousError('bad_reply', `rendezvous server ${server} sent an unreadable reply`);
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
    return new RendezvousError('bad_reply', `rendezvous server ${server} sent an unreadable reply`);
  }
  const r = reply as Record<string, unknown>;
  if (r.status === 'OK') return r;
  const message = typeof r.message === 'string' ? r.message : typeof r.error === 'string' ? r.error : 'unknown error';
  return new RendezvousError('server', message);
}

/** The rendezvous server's error codes, as a user should read them. */
export function describeServerError(message: string): string {
  const known: Record<string, string> = {
    bad_name: 'the name was refused (it must be 1 to 64 characters)',
    bad_namespace: 'the namespace was refused (it must be 1 to 64 characters)',
    bad_port: 'the port was refused (it must be 1 to 65535)',
    bad_ttl: 'the TTL was refused (it must be a whole number of seconds)',
    peer_not_registered: 'this computer has no live registration on the server',
    namespace_required: 'UNREGISTER needs a namespace',
    peer_credentials_do_not_match: 'no registration of ours matched',
    line_too_long: 'the request was over the server line limit',
  };
  const code = message.split(' ', 1)[0]!;
  return known[code] ? `${known[code]} (${message})` : message;
}
