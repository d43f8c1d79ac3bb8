// `npm run bench:rendezvous`: REGISTER and DISCOVER throughput and latency of the rendezvous server
// at 8 concurrent clients with 500 live records, printed as one JSON object on stdout.
// Baselines come from the same run: a "floor" server that answers every request with a constant line
// of the real reply's size, i.e. the cost of TCP connection handling alone; the reference figures
// are the measurement of the Python server on this machine.
// With `-- --redis` it compares the backends instead (bench/rendezvous-redis.ts).

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Logger, streamSink } from '../src-main/engine/log.ts';
import { startRendezvousServer } from '../src-main/rendezvous-server/server.ts';
import type { LoadResult, LoadSpec } from './load-worker.ts';
import { benchRedis } from './rendezvous-redis.ts';

const CLIENTS = 8;
const LIVE_RECORDS = 500;
const NAMESPACES = ['CIC', 'chat', 'games', 'files'];
const WARMUP = 300;
// Bounded by count and time both, so a run stays short and leaves ephemeral ports to spare.
const MEASURED = { count: 20_000, ms: 4000 };
const REFERENCE = { registerPerSecond: 170, discoverPerSecond: 75 };

const registerLines = Array.from({ length: LIVE_RECORDS }, (_, i) =>
  JSON.stringify({ type: 'REGISTER', namespace: NAMESPACES[i % NAMESPACES.length], name: `peer-${i}`, port: 5000 + i, ttl: 7200 }),
);
const discoverLines = [JSON.stringify({ type: 'DISCOVER' })];

const worker = new Worker(new URL('./load-worker.ts', import.meta.url));

async function load(port: number, lines: string[], bounds: { count: number; ms: number }, clients = CLIENTS): Promise<LoadResult> {
  worker.postMessage({ port, lines, clients, ...bounds } satisfies LoadSpec);
  const [result] = (await once(worker, 'message')) as [LoadResult];
  return result;
}

async function warmAndMeasure(port: number, lines: string[]): Promise<LoadResult> {
  await load(port, lines, { count: WARMUP, ms: Infinity });
  return load(port, lines, MEASURED);
}

/** A server that does nothing but read one line and answer `replyBytes` bytes that pass as OK. */
async function startFloorServer(replyBytes: number): Promise<Server> {
  const head = '{"status": "OK", "pad": "';
  const reply = head + 'x'.repeat(Math.max(0, replyBytes - head.length - 3)) + '"}\n';
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (socket.writable && chunk.includes(0x0a)) socket.end(reply);
    });
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 });
  await once(server, 'listening');
  return server;
}

async function phase(port: number, lines: string[], referencePerSecond: number) {
  const real = await warmAndMeasure(port, lines);
  const floorServer = await startFloorServer(real.replyBytes);
  let floor: LoadResult;
  try {
    floor = await warmAndMeasure((floorServer.address() as { port: number }).port, lines);
  } finally {
    floorServer.close();
  }
  if (floor.failures > 0) throw new Error(`floor server failed ${floor.failures} request(s): ${floor.firstFailure}`);
  const perSecond = real.requests / real.seconds;
  const floorPerSecond = floor.requests / floor.seconds;
  if (real.firstFailure !== undefined) console.error(`first failure: ${real.firstFailure}`);
  return {
    requests: real.requests,
    seconds: round(real.seconds, 3),
    perSecond: Math.round(perSecond),
    p50Ms: round(real.p50Ms, 3),
    p99Ms: round(real.p99Ms, 3),
    failures: real.failures,
    replyBytes: real.replyBytes,
    floorPerSecond: Math.round(floorPerSecond),
    ofFloor: round(perSecond / floorPerSecond, 2),
    xReference: round(perSecond / referencePerSecond, 1),
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

if (process.argv.includes('--redis')) {
  try {
    // At 8 clients, as above, and at 32: each request waits for two Redis round trips, which more
    // clients at once overlap, as a department's many clients would.
    const byClients: Record<number, Awaited<ReturnType<typeof benchRedis>>> = {};
    for (const clients of [CLIENTS, 4 * CLIENTS]) {
      byClients[clients] = await benchRedis((port, lines, bounds) => load(port, lines, bounds, clients), {
        registerLines, discoverLines, measured: MEASURED, warmup: WARMUP, liveRecords: LIVE_RECORDS, clients,
      });
    }
    console.log(JSON.stringify({ benchmark: 'rendezvous backends', node: process.version, liveRecords: LIVE_RECORDS, byClients }, null, 2));
  } finally {
    await worker.terminate();
  }
} else {
const dir = mkdtempSync(join(tmpdir(), 'chatp2p-bench-'));
try {
  const server = await startRendezvousServer({
    host: '127.0.0.1',
    port: 0,
    db: join(dir, 'rendezvous.db'),
    // All load comes from 127.0.0.1; the per-IP limit would block it within a second.
    maxRequests: 1e9,
    logger: new Logger({ level: 'WARN', sink: streamSink() }),
  });
  try {
    const prefill = await load(server.port, registerLines, { count: LIVE_RECORDS, ms: Infinity });
    if (prefill.failures > 0 || server.registrations !== LIVE_RECORDS) {
      throw new Error(`prefill left ${server.registrations} records, ${prefill.failures} failure(s): ${prefill.firstFailure}`);
    }
    console.error('prefilled; measuring REGISTER');
    const register = await phase(server.port, registerLines, REFERENCE.registerPerSecond);
    console.error('measuring DISCOVER');
    const discover = await phase(server.port, discoverLines, REFERENCE.discoverPerSecond);
    if (server.registrations !== LIVE_RECORDS) throw new Error(`${server.registrations} records at the end, not ${LIVE_RECORDS}`);
    const result = {
      benchmark: 'rendezvous',
      node: process.version,
      clients: CLIENTS,
      liveRecords: LIVE_RECORDS,
      register,
      discover,
      reference: { ...REFERENCE, source: 'issue #2, measured for the reference Python server on this machine' },
    };
    console.log(JSON.stringify(result, null, 2));
    process.exitCode = register.failures + discover.failures > 0 ? 1 : 0;
  } finally {
    await server.close();
  }
} finally {
  await worker.terminate();
  rmSync(dir, { recursive: true, force: true });
}
}
