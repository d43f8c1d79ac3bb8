// The renderer is served from `app://chatp2p/`, a privileged custom scheme, rather than file://:
// it gets a real origin for the IPC sender check and navigation guards, and a strict CSP header.
import type { CustomScheme } from 'electron';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'chatp2p';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/`;

/** Standard and secure: relative URLs, an origin of its own, a secure context (notifications). */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** Parsed, not pattern-matched; a non-special scheme's URL origin is "null", so compare parts. */
export function isAppUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}

function reply(status: number, body: Uint8Array | null, contentType: string): Response {
  return new Response(body, {
    status,
    headers: {
      'Content-Type': contentType,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

const notFound = (): Response => reply(404, new TextEncoder().encode('Not found'), 'text/plain; charset=utf-8');

/** Serves files under `root` to `protocol.handle`; anything outside it, or any other host, is a 404. */
export function createAppProtocolHandler(root: string): (request: Request) => Promise<Response> {
  const base = path.resolve(root);
  return async (request) => {
    const url = new URL(request.url);
    if (!isAppUrl(url.href)) return notFound();
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, null, 'text/plain; charset=utf-8');
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return notFound();
    }
    // Only the root falls back to index.html: a missing asset must be a visible 404, not a page.
    const file = path.resolve(base, `.${pathname === '/' ? '/index.html' : pathname}`);
    const rel = path.relative(base, file);
    if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return notFound();
    let body: Uint8Array;
    try {
      body = new Uint8Array(await readFile(file));
    } catch {
      return notFound();
    }
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    return reply(200, request.method === 'HEAD' ? null : body, type);
  };
}
