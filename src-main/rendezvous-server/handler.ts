// One rendezvous request in, one reply out: the rules of PROTOCOL.md §2 in the order the reference
// server applies them. Pure apart from the registry, so every rule is testable without sockets.

import { codePointLength, pyInt, pyJsonDumps, pyJsonLoads, pyJsonString, pyLen, pyStr, type PyValue } from './python-compat.ts';
import type { PeerRecord, Registry } from './registry.ts';

export const DEFAULT_TTL = 7200;
export const MIN_TTL = 1;
export const MAX_TTL = 86400;
export const MAX_FIELD_LENGTH = 64;

export interface Outcome {
  /** The reply line, without its trailing newline. */
  reply: string;
  /** What happened, for the `[Rendezvous]` log line. */
  summary: string;
}

export const errorReply = (message: string): string => pyJsonDumps({ status: 'ERROR', message });

type Request = { [key: string]: PyValue };

/** `dict.get`: own fields only, so "__proto__" or "constructor" in a request are plain data. */
const field = (req: Request, key: string): PyValue | undefined => (Object.hasOwn(req, key) ? req[key] : undefined);

const isField = (v: PyValue | undefined): v is string =>
  typeof v === 'string' && v.length > 0 && codePointLength(v) <= MAX_FIELD_LENGTH;

/** A client's value, shortened and escaped so that it cannot forge or flood a log line. */
function show(v: PyValue | undefined): string {
  if (v === undefined) return '-';
  const text = typeof v === 'string' ? v : pyJsonDumps(v);
  const short = text.length > 80 ? text.slice(0, 80) + '…' : text;
  if (!/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(short)) return short;
  // JSON escapes C0 controls; the rest (DEL, C1, the Unicode line separators) it leaves as they are.
  return JSON.stringify(short).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function handleRequest(line: string, ip: string, registry: Registry, now: number): Outcome {
  const req = pyJsonLoads(line);
  const type = req !== null && typeof req === 'object' && !Array.isArray(req) ? field(req, 'type') : undefined;
  if (typeof type !== 'string') return { reply: errorReply('Unknown command'), summary: `${ip} -> ERROR Unknown command` };
  const request = req as Request;
  switch (type.toUpperCase()) {
    case 'REGISTER':
      return register(request, ip, registry, now);
    case 'DISCOVER':
      return discover(request, ip, registry, now);
    case 'UNREGISTER':
      return unregister(request, ip, registry, now);
    default:
      return { reply: errorReply('Unknown command'), summary: `${ip} ${show(type)} -> ERROR Unknown command` };
  }
}

function register(req: Request, ip: string, registry: Registry, now: number): Outcome {
  const name = field(req, 'name');
  const namespace = field(req, 'namespace');
  const port = field(req, 'port');
  const rawTtl = Object.hasOwn(req, 'ttl') ? req.ttl! : DEFAULT_TTL;
  const who = `${show(name)}@${show(namespace)}`;
  const fail = (message: string): Outcome => ({
    reply: errorReply(message),
    summary: `REGISTER ${who} ${ip}:${show(port)} ttl=${show(rawTtl)} -> ERROR ${message}`,
  });

  if (!isField(name)) return fail('bad_name');
  const ttl = pyInt(rawTtl);
  if (ttl === undefined) return fail('bad_ttl');
  if (!isField(namespace)) return fail('bad_namespace');
  const portNumber = pyInt(port);
  if (portNumber === undefined || portNumber < 1n || portNumber > 65535n) return fail('bad_port');

  const clamped = Number(ttl < MIN_TTL ? MIN_TTL : ttl > MAX_TTL ? MAX_TTL : ttl);
  const record = registry.register(ip, namespace, name, Number(portNumber), clamped, now);
  return {
    reply: pyJsonDumps({ status: 'OK', ttl: record.ttl, ip: record.ip, port: record.port }),
    summary: `REGISTER ${who} ${ip}:${record.port} ttl=${record.ttl} -> OK`,
  };
}

function discover(req: Request, ip: string, registry: Registry, now: number): Outcome {
  const namespace = field(req, 'namespace') ?? null;
  const what = `DISCOVER ${namespace === null ? '*' : '#' + show(namespace)} ${ip}`;
  if (!registry.hasLiveRecord(ip, now)) {
    return { reply: errorReply('peer_not_registered'), summary: `${what} -> ERROR peer_not_registered` };
  }
  if (namespace !== null) {
    // The reference checks len() only, so a list or object namespace passes and matches nothing.
    const length = pyLen(namespace);
    if (length === undefined || length < 1 || length > MAX_FIELD_LENGTH) {
      return { reply: errorReply('bad_namespace'), summary: `${what} -> ERROR bad_namespace` };
    }
  }
  const peers =
    namespace === null ? registry.live(now) : typeof namespace === 'string' ? registry.live(now, namespace) : [];
  const items = peers.map((p) => discoverEntryPrefix(p) + Math.max(0, Math.trunc((p.expiresAt - now) / 1000)) + '}');
  return {
    reply: '{"status": "OK", "peers": [' + items.join(', ') + ']}',
    summary: `${what} -> OK ${peers.length} peer(s)`,
  };
}

// DISCOVER lists every live record on every call; each record's fixed part is serialised once.
const entryPrefixes = new WeakMap<PeerRecord, string>();

function discoverEntryPrefix(p: PeerRecord): string {
  let prefix = entryPrefixes.get(p);
  if (prefix === undefined) {
    prefix =
      `{"ip": ${pyJsonString(p.ip)}, "port": ${p.port}, "name": ${pyJsonString(p.name)}, ` +
      `"namespace": ${pyJsonString(p.namespace)}, "ttl": ${p.ttl}, "expires_in": `;
    entryPrefixes.set(p, prefix);
  }
  return prefix;
}

function unregister(req: Request, ip: string, registry: Registry, now: number): Outcome {
  const namespace = field(req, 'namespace') ?? null;
  const name = field(req, 'name') ?? null;
  const port = field(req, 'port') ?? null;
  const where = `${name === null ? '#' : show(name) + '@'}${show(namespace ?? undefined)}`;
  const what = `UNREGISTER ${where} ${ip}`;
  // The message may quote the client's port value: shown bounded and escaped, as every value is.
  const fail = (message: string): Outcome => ({ reply: errorReply(message), summary: `${what} -> ERROR ${show(message)}` });

  if (!registry.hasLiveRecord(ip, now)) return fail('peer_not_registered');
  if (namespace === null) return fail('namespace_required');
  const length = pyLen(namespace);
  if (length === undefined || length < 1 || length > MAX_FIELD_LENGTH) return fail('bad_namespace');
  let portNumber: number | undefined;
  if (port !== null) {
    const parsed = pyInt(port);
    if (parsed === undefined) return fail(`bad_port (${pyStr(port)})`);
    if (parsed < 1n || parsed > 65535n) return fail(`bad_port (${pyStr(parsed)})`);
    portNumber = Number(parsed);
  }
  const removed =
    typeof namespace === 'string' ? registry.unregister(ip, namespace, now, name ?? undefined, portNumber) : 0;
  if (removed === 0) return fail('peer_credentials_do_not_match');
  return { reply: pyJsonDumps({ status: 'OK' }), summary: `${what} -> OK ${removed} removed` };
}
