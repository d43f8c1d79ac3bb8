// Child of bench/reliability.ts: the party under attack, alone in its process so that the memory
// it reports is its own (plus Node's) and not the attackers'. argv: <role> <options as JSON>.
//   engine      one Engine; options: { rendezvousPort, config? (ConfigOverrides) }
//   rendezvous  our rendezvous server on 127.0.0.1; options: RendezvousServerOptions
// It says { type: 'ready', port } and then answers the ChildCommand messages of its parent.
// Run with --expose-gc, so that every memory sample follows a full collection.

import type { IncomingMessage, OutgoingMessage } from '../src-main/engine/api.ts';
import { defaultConfig, mergeConfig, type ConfigOverrides } from '../src-main/engine/config.ts';
import { Engine } from '../src-main/engine/engine.ts';
import { Logger } from '../src-main/engine/log.ts';
import type { PeerManagerStats } from '../src-main/engine/peers/manager.ts';
import { startRendezvousServer, type RendezvousServerOptions } from '../src-main/rendezvous-server/server.ts';
import { peerManagerOf } from '../tests/helpers/peers.ts';

export interface MemorySample {
  /** Resident set size after a full collection, MB. */
  rssMb: number;
  /** JavaScript heap in use plus memory held outside it (buffers), MB. */
  heapAndBuffersMb: number;
}

export type ChildCommand =
  | { type: 'sample' }
  | { type: 'stats' }
  | { type: 'send'; to: string; text: string; timeoutMs: number }
  | { type: 'messages' }
  | { type: 'stop' };

export interface ChildState {
  memory?: MemorySample;
  /** Engine only. */
  peers?: PeerManagerStats;
  counters?: { invalidFrames: number; spoofed: number; duplicates: number };
  /** Log lines at WARN and above so far. */
  warnings: number;
  /** Rendezvous only: client connections open. */
  connections?: number;
}

export type ChildReply =
  | { type: 'ready'; port: number }
  | ({ type: 'state' } & ChildState)
  | { type: 'sent'; state: OutgoingMessage['state'] | 'timeout'; ms: number }
  | { type: 'messages'; messages: Pick<IncomingMessage, 'from' | 'claimedSrc' | 'text'>[] }
  | { type: 'stopped' };

const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const reply = (r: ChildReply) => process.send!(r);

async function sample(): Promise<MemorySample> {
  await sleep(200);
  gc?.();
  gc?.();
  await sleep(50);
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), heapAndBuffersMb: mb(m.heapUsed + m.external) };
}

const [role, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as Record<string, unknown>;
let warnings = 0;
const countWarnings = (level: string) => {
  if (level === 'WARN' || level === 'ERROR') warnings += 1;
};

if (role === 'engine') {
  const config = mergeConfig(
    defaultConfig({ name: 'target', namespace: 'CIC', port: 0 }),
    { listenHost: '127.0.0.1', rendezvous: { host: '127.0.0.1', port: options.rendezvousPort as number, maxRequestsPerMinute: 49 }, logging: { level: 'WARN' } },
    (options.config ?? {}) as ConfigOverrides,
  );
  const engine = new Engine({ config });
  const messages: Pick<IncomingMessage, 'from' | 'claimedSrc' | 'text'>[] = [];
  engine.on('log', (e) => countWarnings(e.level));
  engine.on('message', (m) => messages.push({ from: m.from, claimedSrc: m.claimedSrc, text: m.text }));
  const status = await engine.start();
  const state = async (withMemory: boolean): Promise<ChildState> => ({
    memory: withMemory ? await sample() : undefined,
    peers: peerManagerOf(engine).stats(),
    counters: engine.status().counters,
    warnings,
  });
  process.on('message', (command: ChildCommand) => {
    void (async () => {
      switch (command.type) {
        case 'sample':
        case 'stats':
          return reply({ type: 'state', ...(await state(command.type === 'sample')) });
        case 'send': {
          const started = performance.now();
          const message = engine.sendDirect(command.to, command.text);
          const outcome = await new Promise<OutgoingMessage['state'] | 'timeout'>((resolve) => {
            const timer = setTimeout(() => (off(), resolve('timeout')), command.timeoutMs);
            const off = engine.on('delivery', (d) => {
              if (d.msgId === message.msgId && d.state === 'delivered') {
                clearTimeout(timer);
                off();
                resolve(d.state);
              }
            });
          });
          return reply({ type: 'sent', state: outcome, ms: performance.now() - started });
        }
        case 'messages':
          return reply({ type: 'messages', messages: messages.splice(0) });
        case 'stop':
          await engine.stop();
          reply({ type: 'stopped' });
          return process.disconnect();
      }
    })();
  });
  reply({ type: 'ready', port: status.listen.port });
} else if (role === 'rendezvous') {
  const logger = new Logger({ level: 'WARN', sink: (r) => countWarnings(r.level) });
  const server = await startRendezvousServer({ host: '127.0.0.1', port: 0, db: ':memory:', logger, ...(options as RendezvousServerOptions) });
  process.on('message', (command: ChildCommand) => {
    void (async () => {
      if (command.type === 'sample' || command.type === 'stats') {
        return reply({ type: 'state', memory: command.type === 'sample' ? await sample() : undefined, connections: server.connections, warnings });
      }
      if (command.type === 'stop') {
        await server.close();
        reply({ type: 'stopped' });
        process.disconnect();
      }
    })();
  });
  reply({ type: 'ready', port: server.port });
} else {
  throw new Error(`unknown role ${role}`);
}
