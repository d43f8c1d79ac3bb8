// `npm run bench:rendezvous -- --redis`: the same REGISTER and DISCOVER load against three setups
// in one run, each server a process of its own as `npm run rendezvous` starts it:
//   sqlite   1 instance, the default backend (the baseline)
//   redis    1 instance on Redis
//   redis×2  2 instances on the same Redis behind a round-robin TCP splitter in this process
// plus 1 Redis instance behind the same splitter, which tells the splitter's hop from the cost of
// two instances sharing one Redis.
// and, for the Redis setups, the Redis commands per request from INFO commandstats: `scripts` are
// the round trips (EVALSHA/EVAL), `commands` everything Redis ran, the scripts' calls included.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { createClient } from 'redis';
import { startRedis } from '../tests/helpers/redis.ts';
import type { LoadResult } from './load-worker.ts';

type Load = (port: number, lines: string[], bounds: { count: number; ms: number }) => Promise<LoadResult>;

const MAIN = join(import.meta.dirname, '../src-main/rendezvous-server/main.ts');

interface Instance {
  port: number;
  child: ChildProcessWithoutNullStreams;
}

async function startInstance(args: string[]): Promise<Instance> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, '--host', '127.0.0.1', '--port', '0', '--max-requests', '1000000000', '--log-level', 'WARN', ...args]);
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+) /.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`rendezvous server exited with ${code}: ${err}`)));
  });
  return { port, child };
}

async function stopInstance(instance: Instance): Promise<void> {
  const exited = once(instance.child, 'exit');
  instance.child.kill('SIGTERM');
  await exited;
}

/** Hands each connection to the next port in turn, as a TCP load balancer would. */
async function startSplitter(ports: number[]): Promise<Server> {
  let next = 0;
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: ports[next++ % ports.length]!, allowHalfOpen: true, noDelay: true });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => (client.destroy(), upstream.destroy());
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 });
  await once(server, 'listening');
  return server;
}

/** Calls and microseconds per command, from INFO commandstats. */
type Stats = Map<string, { calls: number; usec: number }>;

async function commandStats(info: () => Promise<string>): Promise<Stats> {
  const stats: Stats = new Map();
  for (const m of (await info()).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return stats;
}

/**
 * Per request: `scripts` (round trips), `commands` (all Redis ran, the scripts' inner calls
 * included) and `usec`, the CPU time Redis spent (a script's time includes its inner calls):
 * what sizes the one Redis thread a deployment shares.
 */
function perRequest(before: Stats, after: Stats, requests: number) {
  const delta = (name: string, field: 'calls' | 'usec') => (after.get(name)?.[field] ?? 0) - (before.get(name)?.[field] ?? 0);
  let commands = 0;
  // INFO itself is the bench's, not the server's.
  for (const name of after.keys()) if (name !== 'info') commands += delta(name, 'calls');
  const scripts = delta('evalsha', 'calls') + delta('eval', 'calls');
  const usec = delta('evalsha', 'usec') + delta('eval', 'usec');
  return { scripts: round(scripts / requests, 2), commands: round(commands / requests, 1), usec: round(usec / requests, 1) };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function benchRedis(
  load: Load,
  spec: { registerLines: string[]; discoverLines: string[]; measured: { count: number; ms: number }; warmup: number; liveRecords: number; clients: number },
) {
  const redis = await startRedis();
  const stats = createClient({ url: redis.url });
  await stats.connect();
  const instances: Instance[] = [];
  let splitter: Server | undefined;
  try {
    const measure = async (port: number, lines: string[], onRedis: boolean) => {
      await load(port, lines, { count: spec.warmup, ms: Infinity });
      const info = () => stats.info('commandstats');
      const before = onRedis ? await commandStats(info) : undefined;
      const r = await load(port, lines, spec.measured);
      const after = onRedis ? await commandStats(info) : undefined;
      if (r.failures > 0) throw new Error(`${r.failures} failed request(s): ${r.firstFailure}`);
      return {
        requests: r.requests,
        perSecond: Math.round(r.requests / r.seconds),
        p50Ms: round(r.p50Ms, 3),
        p99Ms: round(r.p99Ms, 3),
        ...(before && after ? { redisPerRequest: perRequest(before, after, r.requests) } : {}),
      };
    };
    const setup = async (port: number, onRedis: boolean) => {
      const prefill = await load(port, spec.registerLines, { count: spec.liveRecords, ms: Infinity });
      if (prefill.failures > 0) throw new Error(`prefill failed: ${prefill.firstFailure}`);
      console.error(`  REGISTER`);
      const register = await measure(port, spec.registerLines, onRedis);
      console.error(`  DISCOVER`);
      const discover = await measure(port, spec.discoverLines, onRedis);
      return { register, discover };
    };

    type Result = Awaited<ReturnType<typeof setup>>;
    let prefixes = 0;
    /** Starts `count` instances (behind the splitter when asked), measures, stops them. */
    const run = async (args: string[], count: number, split: boolean): Promise<Result> => {
      const onRedis = args[0] === '--redis';
      const started = await Promise.all(
        Array.from({ length: count }, () => startInstance(onRedis ? [...args, '--redis-prefix', `run${prefixes}:`] : args)),
      );
      prefixes++;
      instances.push(...started);
      splitter = split ? await startSplitter(started.map((i) => i.port)) : undefined;
      try {
        return await setup(splitter ? (splitter.address() as AddressInfo).port : started[0]!.port, onRedis);
      } finally {
        splitter?.close();
        splitter = undefined;
        await Promise.all(instances.splice(0).map(stopInstance));
      }
    };
    const SETUPS = {
      sqlite: { args: ['--db', ':memory:'], count: 1, split: false, what: '1 instance on SQLite' },
      redis: { args: ['--redis', redis.url], count: 1, split: false, what: '1 instance on Redis' },
      'redis behind splitter': { args: ['--redis', redis.url], count: 1, split: true, what: '1 instance on Redis behind the splitter' },
      'redis×2': { args: ['--redis', redis.url], count: 2, split: true, what: '2 instances on Redis behind the round-robin splitter' },
    };
    // The machine is shared and noisy: every setup runs twice, in turn, and keeps its better round.
    const best: Partial<Record<keyof typeof SETUPS, Result>> = {};
    for (let round = 1; round <= 2; round++) {
      for (const [name, { args, count, split, what }] of Object.entries(SETUPS) as [keyof typeof SETUPS, (typeof SETUPS)[keyof typeof SETUPS]][]) {
        console.error(`${spec.clients} clients, round ${round}, ${name}: ${what}`);
        const result = await run(args, count, split);
        const previous = best[name];
        best[name] = {
          register: previous && previous.register.perSecond > result.register.perSecond ? previous.register : result.register,
          discover: previous && previous.discover.perSecond > result.discover.perSecond ? previous.discover : result.discover,
        };
      }
    }
    const { sqlite, redis: one, 'redis behind splitter': oneSplit, 'redis×2': two } = best as Record<keyof typeof SETUPS, Result>;

    const ratio = (a: Result, b: Result) => ({
      register: round(a.register.perSecond / b.register.perSecond, 2),
      discover: round(a.discover.perSecond / b.discover.perSecond, 2),
    });
    return {
      setups: best,
      ratios: {
        redisOfSqlite: ratio(one, sqlite),
        twoOfOneRedis: ratio(two, one),
        // The splitter's own hop costs the same for one instance or two: this isolates coordination.
        twoOfOneBehindSplitter: ratio(two, oneSplit),
      },
      goals: { redisOfSqlite: '>= 0.5', scriptsPerRequest: '<= 2 (rate limit at connect + the request)', twoOfOneRedis: '>= 0.9' },
    };
  } finally {
    (splitter as Server | undefined)?.close();
    await Promise.all(instances.map(stopInstance));
    await stats.close();
    await redis.stop();
  }
}
