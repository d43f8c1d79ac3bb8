// Child of bench/soak.ts: the engine under soak, alone in its process so that its memory, file
// descriptors and timers are its own. argv: <rendezvous port> <history file>. Says
// { type: 'ready', port }, then answers the SoakCommand messages of its parent and reports the
// DMs its peers ACKed once a second. Run with --expose-gc: every sample follows a full collection.

import { readdirSync } from 'node:fs';
import { defaultConfig, mergeConfig } from '../src-main/engine/config.ts';
import { Engine } from '../src-main/engine/engine.ts';
import { openMessageStore } from '../src-main/engine/store/sqlite-store.ts';
import { peerManagerOf } from '../tests/helpers/peers.ts';

export type SoakCommand = { type: 'send'; to: string; text: string } | { type: 'sample' } | { type: 'stop' };

export interface SoakSample {
  rssMb: number;
  heapMb: number;
  /** Open file descriptors (/proc/self/fd). */
  fds: number;
  /** Active timers (process.getActiveResourcesInfo). */
  timers: number;
  /** Every active resource: sockets, timers, the listener... */
  resources: number;
  /** Our DMs not yet ACKed (queued or parked), from the history file. */
  outbox: number;
  open: number;
  pendingHandshakes: number;
  /** Log lines at WARN and above since the last sample. */
  warnings: number;
}

export type SoakReply =
  | { type: 'ready'; port: number }
  | { type: 'accepted'; msgId: string; to: string }
  | { type: 'refused'; to: string; error: string }
  | { type: 'delivered'; msgIds: string[] }
  | ({ type: 'sample' } & SoakSample)
  | { type: 'stopped' };

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const reply = (r: SoakReply) => process.send!(r);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const [rendezvousPort, historyFile] = process.argv.slice(2);
const store = openMessageStore(historyFile!);
const engine = new Engine({
  config: mergeConfig(defaultConfig({ name: 'target', namespace: 'CIC', port: 0 }), {
    listenHost: '127.0.0.1',
    rendezvous: { host: '127.0.0.1', port: Number(rendezvousPort), discoverIntervalMs: 10_000, maxRequestsPerMinute: 49 },
    logging: { level: 'WARN' },
  }),
  store,
});
let warnings = 0;
engine.on('log', () => (warnings += 1));
let delivered: string[] = [];
engine.on('delivery', (d) => d.state === 'delivered' && delivered.push(d.msgId));
const flush = setInterval(() => {
  if (delivered.length === 0) return;
  reply({ type: 'delivered', msgIds: delivered });
  delivered = [];
}, 1000);

async function sample(): Promise<SoakSample> {
  gc?.();
  gc?.();
  await sleep(50);
  const m = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  const stats = peerManagerOf(engine).stats();
  const s = { rssMb: mb(m.rss), heapMb: mb(m.heapUsed), fds: readdirSync('/proc/self/fd').length, timers: resources.filter((r) => r === 'Timeout').length, resources: resources.length, outbox: store.pendingOutgoing().length, open: stats.open, pendingHandshakes: stats.pendingHandshakes, warnings };
  warnings = 0;
  return s;
}

process.on('message', (command: SoakCommand) => {
  void (async () => {
    switch (command.type) {
      case 'send':
        try {
          reply({ type: 'accepted', msgId: engine.sendDirect(command.to, command.text).msgId, to: command.to });
        } catch (err) {
          reply({ type: 'refused', to: command.to, error: (err as Error).message });
        }
        return;
      case 'sample':
        return reply({ type: 'sample', ...(await sample()) });
      case 'stop':
        await engine.stop();
        clearInterval(flush);
        if (delivered.length > 0) reply({ type: 'delivered', msgIds: delivered });
        store.close();
        reply({ type: 'stopped' });
        return process.disconnect();
    }
  })();
});
const status = await engine.start();
reply({ type: 'ready', port: status.listen.port });
