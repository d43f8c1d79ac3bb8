// One rendezvous request in, one reply out: the rules of PROTOCOL.md §2 in the order the reference
// server applies them. Pure apart from the backend, so every rule is testable without sockets.
// Every request makes exactly one backend call: what the reference checks first (the IP holds a
// live record) and what it then does travel together, and the order of the checks is kept here.

import type { DiscoverSelection, PeerEntry, RendezvousBackend } from './backend.ts';
import { codePointLength, pyInt, pyJsonDumps, pyJsonLoads, pyJsonString, pyLen, pyStr, type PyValue } from './python-compat.ts';

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

export async function handleRequest(line: string, ip: string, backend: RendezvousBackend): Promise<Outcome> {
  const req = pyJsonLoads(line);
  const type = req !== null && typeof req === 'object' && !Array.isArray(req) ? field(req, 'type') : undefined;
  if (typeof type !== 'string') return { reply: errorReply('Unknown command'), summary: `${ip} -> ERROR Unknown command` };
  const request = req as Request;
  switch (type.toUpperCase()) {
    case 'REGISTER':
      return register(request, ip, backend);
    case 'DISCOVER':
      return discover(request, ip, backend);
    case 'UNREGISTER':
      return unregister(request, ip, backend);
    default:
      return { reply: errorReply('Unknown command'), summary: `${ip} ${show(type)} -> ERROR Unknown command` };
  }
}

async function register(req: Request, ip: string, backend: RendezvousBackend): Promise<Outcome> {
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
  await backend.register(ip, namespace, name, Number(portNumber), clamped);
  return {
    reply: pyJsonDumps({ status: 'OK', ttl: clamped, ip, port: Number(portNumber) }),
    summary: `REGISTER ${who} ${ip}:${portNumber} ttl=${clamped} -> OK`,
  };
}

async function discover(req: Request, ip: string, backend: RendezvousBackend): Promise<Outcome> {
  const namespace = field(req, 'namespace') ?? null;
  const what = `DISCOVER ${namespace === null ? '*' : '#' + show(namespace)} ${ip}`;
  const length = namespace === null ? 1 : pyLen(namespace);
  const badNamespace = length === undefined || length < 1 || length > MAX_FIELD_LENGTH;
  // The reference checks len() only, so a list or object namespace passes and matches nothing.
  const selection: DiscoverSelection =
    namespace === null ? { all: true } : typeof namespace === 'string' && !badNamespace ? { namespace } : 'none';
  const listing = await backend.discover(ip, selection);
  if (listing === undefined) {
    return { reply: errorReply('peer_not_registered'), summary: `${what} -> ERROR peer_not_registered` };
  }
  if (badNamespace) return { reply: errorReply('bad_namespace'), summary: `${what} -> ERROR bad_namespace` };
  const { now, peers } = listing;
  const items = peers.map((p) => discoverEntryPrefix(p) + Math.max(0, Math.trunc((p.expiresAt - now) / 1000)) + '}');
  return {
    reply: '{"status": "OK", "peers": [' + items.join(', ') + ']}',
    summary: `${what} -> OK ${peers.length} peer(s)`,
  };
}

// DISCOVER lists every live record on every call; each record's fixed part is serialised once.
const entryPrefixes = new WeakMap<PeerEntry, string>();

function discoverEntryPrefix(p: PeerEntry): string {
  let prefix = entryPrefixes.get(p);
  if (prefix === undefined) {
    prefix =
      `{"ip": ${pyJsonString(p.ip)}, "port": ${p.port}, "name": ${pyJsonString(p.name)}, ` +
      `"namespace": ${pyJsonString(p.namespace)}, "ttl": ${p.ttl}, "expires_in": `;
    entryPrefixes.set(p, prefix);
  }
  return prefix;
}

async function unregister(req: Request, ip: string, backend: RendezvousBackend): Promise<Outcome> {
  const namespace = field(req, 'namespace') ?? null;
  const name = field(req, 'name') ?? null;
  const port = field(req, 'port') ?? null;
  const where = `${name === null ? '#' : show(name) + '@'}${show(namespace ?? undefined)}`;
  const what = `UNREGISTER ${where} ${ip}`;
  // The message may quote the client's port value: shown bounded and escaped, as every value is.
  const fail = (message: string): Outcome => ({ reply: errorReply(message), summary: `${what} -> ERROR ${show(message)}` });

  const refusal = unregisterRefusal(namespace, port);
  // A list or object namespace, or a name that is not a string, passes the checks and matches nothing.
  const matchable = refusal === undefined && typeof namespace === 'string' && (name === null || typeof name === 'string');
  const removed = await backend.unregister(
    ip,
    matchable ? { namespace, name: name ?? undefined, port: port === null ? undefined : Number(pyInt(port)) } : 'none',
  );
  if (removed === undefined) return fail('peer_not_registered');
  if (refusal !== undefined) return fail(refusal);
  if (removed === 0) return fail('peer_credentials_do_not_match');
  return { reply: pyJsonDumps({ status: 'OK' }), summary: `${what} -> OK ${removed} removed` };
}

/** What the reference refuses an UNREGISTER for once the IP is known to be registered, in its order. */
function unregisterRefusal(namespace: PyValue, port: PyValue): string | undefined {
  if (namespace === null) return 'namespace_required';
  const length = pyLen(namespace);
  if (length === undefined || length < 1 || length > MAX_FIELD_LENGTH) return 'bad_namespace';
  if (port === null) return undefined;
  const parsed = pyInt(port);
  if (parsed === undefined) return `bad_port (${pyStr(port)})`;
  if (parsed < 1n || parsed > 65535n) return `bad_port (${pyStr(parsed)})`;
  return undefined;
}
