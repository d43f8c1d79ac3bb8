// The shared backend: the registry and the rate limit in Redis, so that any number of server
// instances answer as one. Every step is one Lua script, atomic in Redis and one round trip:
// the rate limit at connect, then one script for the request.
//
// Key layout (docs/rendezvous-redis.md), with P the prefix (default "chatp2p:"):
//   P{registry}:rec:<id>         the record, expiring with its TTL: Redis expiry is the TTL
//   P{registry}:seq              counter: the order of last REGISTER, bumped by every change
//                                to a listing, so it is also the registry's version
//   P{registry}:order            sorted set of every record by seq: DISCOVER of all namespaces
//   P{registry}:ns:<ns as JSON>  sorted set of the namespace's records by seq
//   P{registry}:ip:<ip>          sorted set of the IP's record ids by expiry: "holds a live
//                                record" in O(log n), and UNREGISTER
//   P{rl:<ip>}:hits              sorted set of the IP's connection times in the window
//   P{rl:<ip>}:block             present while the IP is blocked, expiring with the block
// A record id is `<ip>\n<namespace as JSON>\n<name as JSON>`, and a record `<id>\n<port>\n<ttl>\n
// <expires at, Redis ms>`: JSON escapes every newline, so the parts split back, and keeps any
// string exactly (lone surrogates too). The listing indexes hold the records themselves, so that
// DISCOVER reads one sorted set and touches no record key; a record listed after its expiry
// instant is left out when read, and the sweep drops every entry that is no longer its record's
// current value.
// The registry shares one hash tag: DISCOVER of every namespace and the "live record" check read
// across namespaces in one atomic script, which Redis Cluster allows only within one slot. The
// rate limit has a tag per IP, so it spreads over the cluster.

import { randomUUID } from 'node:crypto';
import { createClient, defineScript } from 'redis';
import type { ModuleLogger } from '../engine/log.ts';
import { BackendUnavailableError, type DiscoverSelection, type Listing, type PeerEntry, type RendezvousBackend, type UnregisterMatch } from './backend.ts';
import type { Admission } from './rate-limiter.ts';

export interface RedisBackendOptions {
  /** `redis://HOST:PORT/DB`. */
  url: string;
  /** Put before every key, so that several registries can share one Redis; default "chatp2p:". */
  prefix?: string;
  maxConnections: number;
  windowMs: number;
  blockMs: number;
  log: ModuleLogger;
}

/** How long a script may take before its request is answered with an error. */
const SCRIPT_TIMEOUT_MS = 2000;

/** The reply to every request while Redis cannot be reached. */
export const UNAVAILABLE = 'registry_unavailable';

// Redis' own clock, in epoch milliseconds: every instance counts TTLs and windows on the same one.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS[1] is the IP's index, scored by each record's expiry: the instant Redis expires it at.
const REGISTERED = `${NOW}local function registered()
  return #redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'LIMIT', 0, 1) > 0
end
`;

// The positions of the three newlines of a record id (the third ends it inside a record).
const SPLIT = `local function split(s)
  local a = string.find(s, '\\n', 1, true)
  local b = string.find(s, '\\n', a + 1, true)
  return a, b, string.find(s, '\\n', b + 1, true)
end
`;

const SCRIPTS = {
  /** KEYS: hits, block. ARGV: limit, window ms, block ms, a member unique to this connection. 0 admit, -1 drop, n blocked n s more. */
  admit: defineScript({
    NUMBER_OF_KEYS: 2,
    SCRIPT: `local left = redis.call('PTTL', KEYS[2])
if left > 0 then return math.ceil(left / 1000) end
${NOW}redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return -1
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0`,
    parseCommand(parser, hits: string, block: string, limit: string, windowMs: string, blockMs: string, member: string) {
      parser.pushKeys([hits, block]);
      parser.push(limit, windowMs, blockMs, member);
    },
    transformReply: (reply: unknown) => reply as number,
  }),
  /** KEYS: seq, order, namespace index, IP index, record. ARGV: id, port, ttl s. */
  register: defineScript({
    NUMBER_OF_KEYS: 5,
    SCRIPT: `${NOW}local ttl = tonumber(ARGV[3]) * 1000
local expires = string.format('%d', now + ttl)
local old = redis.call('GET', KEYS[5])
if old then
  redis.call('ZREM', KEYS[2], old)
  redis.call('ZREM', KEYS[3], old)
end
local record = ARGV[1] .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[3] .. '\\n' .. expires
redis.call('SET', KEYS[5], record, 'PX', ttl)
local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, record)
redis.call('ZADD', KEYS[3], seq, record)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('ZADD', KEYS[4], expires, ARGV[1])
-- An index lives as long as its longest record, so one that nobody reads again goes as well.
for i = 3, 4 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`,
    parseCommand(parser, keys: string[], id: string, port: string, ttl: string) {
      parser.pushKeys(keys);
      parser.push(id, port, ttl);
    },
    transformReply: (reply: unknown) => reply as number,
  }),
  /**
   * KEYS: IP index, the index to list, seq. ARGV: 'list' or 'none', the registry version the
   * caller holds that listing at. Nil when not registered, else {now, version, records unless the
   * version is the caller's}.
   */
  discover: defineScript({
    NUMBER_OF_KEYS: 3,
    SCRIPT: `${REGISTERED}if not registered() then return false end
local at = string.format('%d', now)
if ARGV[1] == 'none' then return {at, '', {}} end
local version = redis.call('GET', KEYS[3]) or '0'
if version == ARGV[2] then return {at, version} end
return {at, version, redis.call('ZRANGE', KEYS[2], 0, -1)}`,
    parseCommand(parser, keys: string[], mode: string, version: string) {
      parser.pushKeys(keys);
      parser.push(mode, version);
    },
    transformReply(reply: unknown) {
      const r = reply as [string, string, string[]?] | null;
      return r && { now: Number(r[0]), version: r[1], records: r[2] };
    },
  }),
  /** KEYS: IP index, order, namespace index, seq. ARGV: record key prefix, 'match' or 'none', namespace JSON, name JSON or '', port or ''. Nil when not registered, else how many went. */
  unregister: defineScript({
    NUMBER_OF_KEYS: 4,
    SCRIPT: `${REGISTERED}${SPLIT}if not registered() then return false end
if ARGV[2] == 'none' then return 0 end
local removed = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local a, b = split(id .. '\\n')
  if string.sub(id, a + 1, b - 1) == ARGV[3] and (ARGV[4] == '' or string.sub(id, b + 1) == ARGV[4]) then
    local record = redis.call('GET', ARGV[1] .. id)
    if record and (ARGV[5] == '' or string.match(record, '\\n(%d+)\\n%d+\\n%d+$') == ARGV[5]) then
      redis.call('DEL', ARGV[1] .. id)
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', KEYS[2], record)
      redis.call('ZREM', KEYS[3], record)
      removed = removed + 1
    end
  end
end
if removed > 0 then redis.call('INCR', KEYS[4]) end
return removed`,
    parseCommand(parser, keys: string[], recordPrefix: string, mode: string, namespace: string, name: string, port: string) {
      parser.pushKeys(keys);
      parser.push(recordPrefix, mode, namespace, name, port);
    },
    transformReply: (reply: unknown) => reply as number | null,
  }),
  /** KEYS: order, seq. ARGV: the registry's key prefix. Drops listing entries that are no longer their record's value: {dropped, left}. */
  sweep: defineScript({
    NUMBER_OF_KEYS: 2,
    SCRIPT: `${SPLIT}local dropped = 0
for _, record in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local a, b, c = split(record)
  if redis.call('GET', ARGV[1] .. 'rec:' .. string.sub(record, 1, c - 1)) ~= record then
    redis.call('ZREM', KEYS[1], record)
    redis.call('ZREM', ARGV[1] .. 'ns:' .. string.sub(record, a + 1, b - 1), record)
    dropped = dropped + 1
  end
end
if dropped > 0 then redis.call('INCR', KEYS[2]) end
return {dropped, redis.call('ZCARD', KEYS[1])}`,
    parseCommand(parser, keys: string[], registryPrefix: string) {
      parser.pushKeys(keys);
      parser.push(registryPrefix);
    },
    transformReply(reply: unknown) {
      const [dropped, left] = reply as [number, number];
      return { dropped, left };
    },
  }),
};

const connectClient = (url: string, reconnectStrategy: (retries: number, cause: Error) => number | Error) =>
  createClient({
    url,
    scripts: SCRIPTS,
    // While Redis is away a request fails at once instead of waiting in a queue.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy },
  });

type Client = ReturnType<typeof connectClient>;


export class RedisBackend implements RendezvousBackend {
  readonly maxConnections: number;
  private readonly client: Client;
  private readonly options: RedisBackendOptions;
  private readonly registry: string;
  private readonly prefix: string;
  private readonly instance = randomUUID();
  private connections = 0;
  private size = 0;
  private listings = new Map<string, { version: string; entries: PeerEntry[] }>();
  private version = '';
  private entries = new Map<string, PeerEntry>();
  private previousEntries = new Map<string, PeerEntry>();
  private failedSince: number | undefined;
  private failures = 0;
  private lastReport = 0;

  /** Connects, or fails with the reason when Redis cannot be reached at start. */
  static async connect(options: RedisBackendOptions): Promise<RedisBackend> {
    const backend = new RedisBackend(options);
    try {
      await backend.client.connect();
    } catch (err) {
      backend.client.destroy();
      throw new BackendUnavailableError(`cannot reach Redis at ${options.url}: ${(err as Error).message}`);
    }
    options.log.info(`registry and rate limit in Redis at ${options.url}, keys under ${backend.prefix}`);
    await backend.sweep();
    return backend;
  }

  private constructor(options: RedisBackendOptions) {
    this.options = options;
    this.maxConnections = options.maxConnections;
    this.prefix = options.prefix ?? 'chatp2p:';
    this.registry = `${this.prefix}{registry}:`;
    let ready = false;
    // At start a failure is the answer (connect rejects with it); once running, reconnect for as
    // long as it takes.
    this.client = connectClient(options.url, (retries, cause) => (ready ? Math.min(50 * 2 ** retries, 1000) : cause));
    this.client.on('error', (err: Error) => ready && this.report(err));
    this.client.on('ready', () => (ready = true));
  }

  get registrations(): number {
    return this.size;
  }

  async admit(ip: string): Promise<Admission> {
    const rate = `${this.prefix}{rl:${ip}}:`;
    const member = `${this.instance}:${this.connections++}`;
    const { maxConnections, windowMs, blockMs } = this.options;
    const left = await this.call(this.client.admit(rate + 'hits', rate + 'block', String(maxConnections), String(windowMs), String(blockMs), member));
    if (left === 0) return { kind: 'admit' };
    return left < 0 ? { kind: 'drop' } : { kind: 'blocked', secondsLeft: left };
  }

  async register(ip: string, namespace: string, name: string, port: number, ttl: number): Promise<void> {
    const id = `${ip}\n${JSON.stringify(namespace)}\n${JSON.stringify(name)}`;
    const r = this.registry;
    const keys = [r + 'seq', r + 'order', r + 'ns:' + JSON.stringify(namespace), r + 'ip:' + ip, r + 'rec:' + id];
    await this.call(this.client.register(keys, id, String(port), String(ttl)));
  }

  async discover(ip: string, selection: DiscoverSelection): Promise<Listing | undefined> {
    const r = this.registry;
    const list = selection === 'none' ? r + 'order' : 'all' in selection ? r + 'order' : r + 'ns:' + JSON.stringify(selection.namespace);
    const held = selection === 'none' ? undefined : this.listings.get(list);
    const reply = await this.call(this.client.discover([r + 'ip:' + ip, list, r + 'seq'], selection === 'none' ? 'none' : 'list', held?.version ?? ''));
    if (reply === null) return undefined;
    let entries = held?.entries ?? [];
    if (reply.records !== undefined) {
      entries = reply.records.map((record) => this.entry(record));
      this.hold(list, reply.version, entries);
    }
    // Listed until the sweep drops it; expired from the instant Redis expires its key.
    return { now: reply.now, peers: entries.filter((entry) => entry.expiresAt > reply.now) };
  }

  /**
   * Keeps a listing at the registry's version, which every change to any listing bumps: while
   * Redis says the version is unchanged, DISCOVER does not send the records again. A newer version
   * makes every listing held stale; a bound keeps DISCOVERs of made-up namespaces from piling up.
   */
  private hold(list: string, version: string, entries: PeerEntry[]): void {
    if (version !== this.version || this.listings.size >= 1000) this.listings.clear();
    this.version = version;
    this.listings.set(list, { version, entries });
  }

  /**
   * The entry a stored record holds. A record names one registration exactly (its expiry included),
   * so it is parsed once and the object reused by every DISCOVER that lists it; the handler then
   * serialises it once too. Two generations, turned over at each sweep, keep the cache to the
   * records seen lately.
   */
  private entry(record: string): PeerEntry {
    let entry = this.entries.get(record);
    if (entry === undefined) {
      entry = this.previousEntries.get(record) ?? parseRecord(record);
      this.entries.set(record, entry);
    }
    return entry;
  }

  async unregister(ip: string, match: UnregisterMatch | 'none'): Promise<number | undefined> {
    const r = this.registry;
    const namespace = match === 'none' ? '' : JSON.stringify(match.namespace);
    const name = match === 'none' || match.name === undefined ? '' : JSON.stringify(match.name);
    const port = match === 'none' || match.port === undefined ? '' : String(match.port);
    const keys = [r + 'ip:' + ip, r + 'order', r + 'ns:' + namespace, r + 'seq'];
    const removed = await this.call(this.client.unregister(keys, r + 'rec:', match === 'none' ? 'none' : 'match', namespace, name, port));
    return removed ?? undefined;
  }

  async sweep(): Promise<number> {
    const { dropped, left } = await this.call(this.client.sweep([this.registry + 'order', this.registry + 'seq'], this.registry));
    this.size = left;
    this.previousEntries = this.entries;
    this.entries = new Map();
    return dropped;
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  /** One script with a deadline: whatever goes wrong, the request gets an answer. */
  private async call<T>(script: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${SCRIPT_TIMEOUT_MS} ms`)), SCRIPT_TIMEOUT_MS);
    });
    try {
      const reply = await Promise.race([script, deadline]);
      if (this.failedSince !== undefined) {
        this.options.log.info(`Redis is reachable again after ${((Date.now() - this.failedSince) / 1000).toFixed(1)} s`);
        this.failedSince = undefined;
      }
      return reply;
    } catch (err) {
      this.report(err as Error);
      throw new BackendUnavailableError(UNAVAILABLE);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Logs a Redis failure at most once a second, with how many requests it failed since. */
  private report(err: Error): void {
    const now = Date.now();
    this.failedSince ??= now;
    this.failures++;
    if (now - this.lastReport < 1000) return;
    this.options.log.error(`Redis unavailable (${this.failures} failure(s) since the last report; requests are answered ${UNAVAILABLE}): ${err.message || err.name}`);
    this.lastReport = now;
    this.failures = 0;
  }
}

function parseRecord(record: string): PeerEntry {
  const [ip, namespace, name, port, ttl, expiresAt] = record.split('\n') as [string, string, string, string, string, string];
  return { ip, namespace: JSON.parse(namespace) as string, name: JSON.parse(name) as string, port: Number(port), ttl: Number(ttl), expiresAt: Number(expiresAt) };
}
