// The browser host: serves the built renderer and carries the ChatApi over a WebSocket, on
// 127.0.0.1 only. A random token in the URL guards the API; the Host and Origin checks keep other
// web pages (DNS rebinding, cross-site WebSockets) from reaching it with the user's browser.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventEnvelope, WireMessage, WireRequest } from '../../src-shared/chat-api.ts';
import type { ChatService } from '../service/chat-service.ts';

export interface WebHostOptions {
  service: Pick<ChatService, 'dispatch' | 'onEvent'>;
  /** The built renderer (`dist/renderer`). */
  rendererDir: string;
  /** 0 (the default) picks a free port. */
  httpPort?: number;
  token?: string;
  log?: (message: string) => void;
}

export interface WebHost {
  /** The address to open, token included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
/** A request carries at most one message of 30 KiB, escaped once more: this leaves room. */
const MAX_REQUEST_BYTES = 256 * 1024;
/** A tab that stops reading is dropped before its backlog grows without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const log = options.log ?? (() => undefined);
  const root = resolve(options.rendererDir);
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES });
  let port = 0;

  const allowedHost = (req: IncomingMessage) => req.headers.host === `${HOST}:${port}` || req.headers.host === `localhost:${port}`;

  const server = createServer((req, res) => {
    if (!allowedHost(req)) return plain(res, 421, 'Unknown host');
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method not allowed');
    serveFile(root, req, res, port);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(req, token, allowedHost(req));
    if (refusal) {
      log(`[WebHost] Refused a WebSocket: ${refusal}`);
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${refusal}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveApi(ws, options.service, sockets, log));
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.httpPort ?? 0, HOST, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** Why a WebSocket upgrade is refused, or undefined to accept it. */
function upgradeRefusal(req: IncomingMessage, token: string, hostAllowed: boolean): string | undefined {
  const url = new URL(req.url ?? '/', 'http://host');
  if (url.pathname !== '/api') return 'not found';
  if (!hostAllowed) return 'unknown host';
  // Browsers always send Origin: one that is not this page's own is another site's script.
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return 'foreign origin';
  const given = Buffer.from(url.searchParams.get('token') ?? '');
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'wrong token';
  return undefined;
}

function serveApi(ws: WebSocket, service: WebHostOptions['service'], sockets: Set<WebSocket>, log: (message: string) => void): void {
  sockets.add(ws);
  const send = (message: WireMessage | EventEnvelope) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      log('[WebHost] A tab stopped reading: closing its connection');
      ws.close(1013, 'too slow');
      return;
    }
    ws.send(JSON.stringify(message));
  };
  const off = service.onEvent(send);
  ws.on('message', (data, isBinary) => {
    const request = isBinary ? undefined : parseRequest(data.toString());
    if (!request) {
      log('[WebHost] Ignored a message that is not a ChatApi request');
      return;
    }
    void service.dispatch(request.command, request.args).then((reply) => send({ id: request.id, ...reply }));
  });
  ws.on('close', () => {
    off();
    sockets.delete(ws);
    // A tab that crashed or lost its connection is not looking at any chat: messages count as unread again.
    if (sockets.size === 0) void service.dispatch('setActiveConversation', [undefined]);
  });
  ws.on('error', (err) => log(`[WebHost] WebSocket error: ${err.message}`));
}

/** Only the envelope's shape is checked here; the command and its arguments are the service's to check. */
function parseRequest(text: string): WireRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, command, args } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(id) || typeof command !== 'string' || !Array.isArray(args)) return undefined;
  return { id: id as number, command: command as WireRequest['command'], args };
}

function serveFile(root: string, req: IncomingMessage, res: ServerResponse, port: number): void {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://host').pathname);
  } catch {
    return plain(res, 400, 'Bad path');
  }
  const file = resolve(join(root, pathname === '/' ? 'index.html' : pathname));
  const inside = relative(root, file);
  if (inside.startsWith('..') || inside.startsWith(sep) || pathname.includes('\0')) return plain(res, 404, 'Not found');
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return plain(res, 404, 'Not found');
    size = stat.size;
  } catch {
    return plain(res, 404, 'Not found');
  }
  const ext = extname(file);
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': size,
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    // The token is in the page's URL: never send it along as a Referer.
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': ext === '.html' ? 'no-store' : 'max-age=3600',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ws://${HOST}:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}
