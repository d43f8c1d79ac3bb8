// The shared backend: the registry and the rate limit in Redis, so that any number of server
// instances answer as one. Every step is one Lua script, atomic in Redis and one round trip:
// the rate limit at connect, then one script for the request.
//
// Key layout (docs/rendezvous-redis.md), with P the prefix (default "chatp2p:"):
//   P{registry}:seq              counter: the order of last REGISTER
//   P{registry}:order            sorted set of record ids by seq: DISCOVER of every namespace
//   P{registry}:ns:<ns json>     sorted set of the namespace's record ids by seq
//   P{registry}:ip:<ip>          set of the IP's record ids: "holds a live record", UNREGISTER
//   P{registry}:rec:<id>         the record, expiring with its TTL (Redis expiry is the TTL)
//   P{rl:<ip>}:hits              sorted set of the IP's connection times in the window
//   P{rl:<ip>}:block             present while the IP is blocked, expiring with the block
// A record id is `<ip>\n<namespace as JSON>\n<name as JSON>`: JSON escapes every newline, so the
// parts split back, and JSON keeps any string exactly (lone surrogates too).
// The registry shares one hash tag: DISCOVER of every namespace and the "live record" check read
// across namespaces in one atomic script, which Redis Cluster allows only within one slot. The
// rate limit has a tag per IP, so it spreads over the cluster. Index entries of an expired
// record are skipped when read and dropped by the sweep.

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
  /** How long a script may take before the request is answered with an error; default 2000. */
  commandTimeoutMs?: number;
  log: ModuleLogger;
}

/** The reply to every request while Redis cannot be reached. */
export const UNAVAILABLE = 'registry_unavailable';

// Redis' own clock, in epoch milliseconds: every instance counts TTLs and windows on the same one.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS[1] is the IP's index, ARGV[1] the prefix of record keys.
const REGISTERED = `local function registered()
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if redis.call('EXISTS', ARGV[1] .. id) == 1 then return true end
  end
  return false
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
  /** KEYS: seq, order, namespace index, IP index, record. ARGV: id, the record's JSON without its expiry, ttl ms. */
  register: defineScript({
    NUMBER_OF_KEYS: 5,
    SCRIPT: `${NOW}local ttl = tonumber(ARGV[3])
local seq = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[5], ARGV[2] .. string.format('%d', now + ttl) .. ']', 'PX', ttl)
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
-- An index lives as long as its longest record, so one that nobody reads again goes as well.
for i = 3, 4 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`,
    parseCommand(parser, keys: string[], id: string, head: string, ttlMs: string) {
      parser.pushKeys(keys);
      parser.push(id, head, ttlMs);
    },
    transformReply: (reply: unknown) => reply as number,
  }),
  /** KEYS: IP index, the index to list. ARGV: record key prefix, 'list' or 'none'. Nil when not registered, else {now, records as one JSON array}. */
  discover: defineScript({
    NUMBER_OF_KEYS: 2,
    SCRIPT: `${REGISTERED}if not registered() then return false end
${NOW}if ARGV[2] == 'none' then return {string.format('%d', now), '[]'} end
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
local out = {}
for i = 1, #ids, 1000 do
  local keys = {}
  for j = i, math.min(i + 999, #ids) do keys[#keys + 1] = ARGV[1] .. ids[j] end
  for _, v in ipairs(redis.call('MGET', unpack(keys))) do
    if v then out[#out + 1] = v end
  end
end
return {string.format('%d', now), '[' .. table.concat(out, ',') .. ']'}`,
    parseCommand(parser, ipIndex: string, list: string, recordPrefix: string, mode: string) {
      parser.pushKeys([ipIndex, list]);
      parser.push(recordPrefix, mode);
    },
    transformReply(reply: unknown) {
      const r = reply as [string, string] | null;
      return r && { now: Number(r[0]), records: r[1] };
    },
  }),
  /** KEYS: IP index, order, namespace index. ARGV: record key prefix, 'match' or 'none', namespace JSON, name JSON or '', port or ''. Nil when not registered, else how many went. */
  unregister: defineScript({
    NUMBER_OF_KEYS: 3,
    SCRIPT: `${REGISTERED}if not registered() then return false end
if ARGV[2] == 'none' then return 0 end
local removed = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local a = string.find(id, '\\n', 1, true)
  local b = string.find(id, '\\n', a + 1, true)
  if string.sub(id, a + 1, b - 1) == ARGV[3] and (ARGV[4] == '' or string.sub(id, b + 1) == ARGV[4]) then
    local record = redis.call('GET', ARGV[1] .. id)
    if record and (ARGV[5] == '' or string.match(record, ',(%d+),%d+,%d+%]$') == ARGV[5]) then
      redis.call('DEL', ARGV[1] .. id)
      redis.call('SREM', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('ZREM', KEYS[3], id)
      removed = removed + 1
    end
  end
end
return removed`,
    parseCommand(parser, keys: string[], recordPrefix: string, mode: string, namespace: string, name: string, port: string) {
      parser.pushKeys(keys);
      parser.push(recordPrefix, mode, namespace, name, port);
    },
    transformReply: (reply: unknown) => reply as number | null,
  }),
  /** KEYS: order. ARGV: the registry's key prefix. Drops the index entries of expired records: {dropped, left}. */
  sweep: defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `local dropped = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. 'rec:' .. id) == 0 then
    local a = string.find(id, '\\n', 1, true)
    local b = string.find(id, '\\n', a + 1, true)
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', ARGV[1] .. 'ns:' .. string.sub(id, a + 1, b - 1), id)
    redis.call('SREM', ARGV[1] .. 'ip:' .. string.sub(id, 1, a - 1), id)
    dropped = dropped + 1
  end
end
return {dropped, redis.call('ZCARD', KEYS[1])}`,
    parseCommand(parser, order: string, registryPrefix: string) {
      parser.pushKey(order);
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

/** A record as stored: [ip, namespace, name, port, ttl, expiresAt]. */
type StoredRecord = [string, string, string, number, number, number];

export class RedisBackend implements RendezvousBackend {
  readonly maxConnections: number;
  private readonly client: Client;
  private readonly options: RedisBackendOptions;
  private readonly registry: string;
  private readonly prefix: string;
  private readonly instance = randomUUID();
  private connections = 0;
  private size = 0;
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
    this.client.on('ready', () => {
      ready = true;
      if (this.failedSince === undefined) return;
      options.log.info(`Redis is reachable again after ${((Date.now() - this.failedSince) / 1000).toFixed(1)} s`);
      this.failedSince = undefined;
    });
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
    const id = recordId(ip, namespace, name);
    const r = this.registry;
    const keys = [r + 'seq', r + 'order', r + 'ns:' + JSON.stringify(namespace), r + 'ip:' + ip, r + 'rec:' + id];
    const head = JSON.stringify([ip, namespace, name, port, ttl]).slice(0, -1) + ',';
    await this.call(this.client.register(keys, id, head, String(ttl * 1000)));
  }

  async discover(ip: string, selection: DiscoverSelection): Promise<Listing | undefined> {
    const r = this.registry;
    const list = selection === 'none' ? r + 'order' : 'all' in selection ? r + 'order' : r + 'ns:' + JSON.stringify(selection.namespace);
    const reply = await this.call(this.client.discover(r + 'ip:' + ip, list, r + 'rec:', selection === 'none' ? 'none' : 'list'));
    if (reply === null) return undefined;
    const records = JSON.parse(reply.records) as StoredRecord[];
    const peers = records.map(([ip, namespace, name, port, ttl, expiresAt]): PeerEntry => ({ ip, namespace, name, port, ttl, expiresAt }));
    return { now: reply.now, peers };
  }

  async unregister(ip: string, match: UnregisterMatch | 'none'): Promise<number | undefined> {
    const r = this.registry;
    const namespace = match === 'none' ? '' : JSON.stringify(match.namespace);
    const name = match === 'none' || match.name === undefined ? '' : JSON.stringify(match.name);
    const port = match === 'none' || match.port === undefined ? '' : String(match.port);
    const keys = [r + 'ip:' + ip, r + 'order', r + 'ns:' + namespace];
    const removed = await this.call(this.client.unregister(keys, r + 'rec:', match === 'none' ? 'none' : 'match', namespace, name, port));
    return removed ?? undefined;
  }

  async sweep(): Promise<number> {
    const { dropped, left } = await this.call(this.client.sweep(this.registry + 'order', this.registry));
    this.size = left;
    return dropped;
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  /** One script with a deadline: whatever goes wrong, the request gets an answer. */
  private async call<T>(script: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.commandTimeoutMs ?? 2000;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([script, deadline]);
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

const recordId = (ip: string, namespace: string, name: string) => `${ip}\n${JSON.stringify(namespace)}\n${JSON.stringify(name)}`;
