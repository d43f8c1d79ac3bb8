// Child of bench/engine.ts: one Engine in a process of its own, so that the resident memory it
// reports is the engine's (plus Node's) and nothing else's. argv: the rendezvous port. It reports
// over IPC (MemoryReport): RSS before the engine exists, RSS of the idle started engine, then, on
// 'await-open', RSS once that many peers are open; on 'stop' it stops the engine and exits.
// Run with --expose-gc, so that every sample follows a full collection.

import { mergeConfig, defaultConfig } from '../src-main/engine/config.ts';
import { Engine } from '../src-main/engine/engine.ts';

export interface MemorySample {
  /** After a full collection. */
  rssMb: number;
  /** Before it: what the process held as the work left it. */
  rssBeforeGcMb: number;
  heapUsedMb: number;
  externalMb: number;
}

export type MemoryCommand = { type: 'await-open'; count: number; timeoutMs: number } | { type: 'stop' };

export type MemoryReport =
  | { type: 'idle'; port: number; beforeEngine: MemorySample; idle: MemorySample }
  | { type: 'loaded'; open: number; waitedMs: number; sample: MemorySample }
  | { type: 'stopped'; stopMs: number; open: number };

const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const report = (r: MemoryReport) => process.send!(r);

/** Lets pending work (timers, sockets) settle, collects garbage, then reads the process's memory. */
async function sample(): Promise<MemorySample> {
  await sleep(500);
  const rssBeforeGc = process.memoryUsage.rss();
  gc?.();
  gc?.();
  await sleep(100);
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), rssBeforeGcMb: mb(rssBeforeGc), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return performance.now() - started;
}

const rendezvousPort = Number(process.argv[2]);
const beforeEngine = await sample();
const engine = new Engine({
  config: mergeConfig(defaultConfig({ name: 'engine', namespace: 'MEM', port: 0 }), {
    listenHost: '127.0.0.1',
    rendezvous: { host: '127.0.0.1', port: rendezvousPort, maxRequestsPerMinute: 49 },
    logging: { level: 'WARN' },
  }),
});
engine.on('log', (e) => process.stderr.write(`[memory engine] ${e.time} ${e.level} [${e.module}] ${e.message}\n`));
const status = await engine.start();
await waitFor(() => engine.status().registration.state === 'registered', 10_000, 'REGISTER');
report({ type: 'idle', port: status.listen.port, beforeEngine, idle: await sample() });

process.on('message', (command: MemoryCommand) => {
  void (async () => {
    if (command.type === 'await-open') {
      const waitedMs = await waitFor(() => engine.status().peers.open >= command.count, command.timeoutMs, `${command.count} open peers`);
      report({ type: 'loaded', open: engine.status().peers.open, waitedMs, sample: await sample() });
    } else {
      const open = engine.status().peers.open;
      const started = performance.now();
      await engine.stop();
      report({ type: 'stopped', stopMs: performance.now() - started, open });
      process.disconnect();
    }
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
