// The process that tests/store/crash.test.ts kills: an engine with a history file, sending DMs in a
// loop while the test's peers flood it with SENDs, until it is killed with SIGKILL (by the test
// after a random delay, or by itself right after a chosen event). Not a test file: the test spawns
// it as `node --disable-warning=ExperimentalWarning crash-child.ts '<CrashChildOptions as JSON>'`.
//
// It reports on stdout, one line each, written with writeSync so that what it said before a kill
// is never lost in a stream buffer:
//   ready                      the engine listens and has resumed its outbox
//   accepted <msgId> <peerId>  sendDirect() returned: the DM counts as accepted from the user
//   kill <event> <n>           it is about to SIGKILL itself, right after that event
//   outbox-empty               (final run) every DM of ours is delivered
//   stopped                    (final run) the engine stopped and the history closed cleanly

import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { defaultConfig, mergeConfig } from '../../src-main/engine/config.ts';
import { Engine } from '../../src-main/engine/engine.ts';
import { openMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { prng } from '../helpers/prng.ts';

export interface CrashChildOptions {
  dbPath: string;
  rendezvousPort: number;
  name: string;
  namespace: string;
  /** The peers our DMs go to, round-robin in bursts. */
  peers: string[];
  /**
   * SIGKILL ourselves right after the n-th event: 'accept', the n-th sendDirect() has returned
   * (and its line is written); 'ack', the n-th socket write that carries an ACK of ours.
   */
  killAfter?: { event: 'accept' | 'ack'; n: number };
  /** The clean last run: one DM to each peer, deliver the outbox, stop on "stop" from stdin. */
  final?: boolean;
  seed: number;
  /** A safety net: give up (exit 3) if nobody killed or stopped us by then. */
  maxLifeMs: number;
}

const options = JSON.parse(process.argv[2]!) as CrashChildOptions;
const say = (line: string) => writeSync(1, `${line}\n`);
const die = (event: string, n: number) => {
  say(`kill ${event} ${n}`);
  process.kill(process.pid, 'SIGKILL');
};

// Our ACKs go out through socket writes (several frames may share one): count those writes.
if (options.killAfter?.event === 'ack') {
  const n = options.killAfter.n;
  let acks = 0;
  const write = Socket.prototype.write as (this: Socket, ...args: unknown[]) => boolean;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]): boolean {
    const result = write.apply(this, args);
    const chunk = args[0];
    if ((Buffer.isBuffer(chunk) || typeof chunk === 'string') && chunk.includes('"type":"ACK"') && ++acks === n) die('ack', n);
    return result;
  } as typeof Socket.prototype.write;
}

const random = prng(options.seed);

const store = openMessageStore(options.dbPath, (err) => process.stderr.write(`store error: ${err.message}\n`));
const engine = new Engine({
  store,
  config: mergeConfig(defaultConfig({ name: options.name, namespace: options.namespace, port: 0 }), {
    listenHost: '127.0.0.1',
    rendezvous: { host: '127.0.0.1', port: options.rendezvousPort, discoverIntervalMs: 200, maxRequestsPerMinute: 49 },
    // A loaded machine may be slow to commit and ACK: no retry for that within the test's time.
    network: { ackTimeoutMs: 10_000, handshakeTimeoutMs: 2_000, byeTimeoutMs: 500 },
    peerConnection: { backoffBaseMs: 50, backoffMaxMs: 200 },
    logging: { level: 'WARN' },
  }),
});
engine.on('log', (l) => process.stderr.write(`${l.level} [${l.module}] ${l.message}\n`));
await engine.start();
say('ready');

let accepted = 0;
let next = 0;
const send = (text: string, peerId: string) => {
  const message = engine.sendDirect(peerId, text);
  say(`accepted ${message.msgId} ${peerId}`);
  accepted += 1;
  if (options.killAfter?.event === 'accept' && accepted === options.killAfter.n) die('accept', accepted);
};

const safety = setTimeout(() => {
  process.stderr.write(`crash-child: still alive after ${options.maxLifeMs} ms, giving up\n`);
  process.exit(3);
}, options.maxLifeMs);
// The test went away without killing us: do not linger.
process.stdin.on('end', () => process.exit(4));
process.stdin.resume();

if (options.final) {
  for (const peerId of options.peers) send(`última mensagem para ${peerId}: até já`, peerId);
  let empty = false;
  const poll = setInterval(() => {
    if (!empty && store.pendingOutgoing().length === 0) {
      empty = true;
      say('outbox-empty');
    }
  }, 50);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'stop') continue;
    clearInterval(poll);
    clearTimeout(safety);
    await engine.stop();
    store.close();
    say('stopped');
    process.exit(0);
  }
} else {
  // Bursts of 1-3 DMs a few ms apart: some share a turn with incoming SENDs, some do not.
  const loop = () => {
    const burst = 1 + Math.floor(random() * 3);
    for (let i = 0; i < burst; i++) {
      const peerId = options.peers[next++ % options.peers.length]!;
      send(`mensagem ${next} de ${options.name} — olá, ça va? ${'x'.repeat(Math.floor(random() * 200))}`, peerId);
    }
    setTimeout(loop, 1 + Math.floor(random() * 6));
  };
  loop();
}
