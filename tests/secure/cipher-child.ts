// Two sealed engines in a process whose node:crypto is BoringSSL's (the stand-in's), for
// cipher.test.ts: which ChaCha20-Poly1305 the sessions run on, what the engines logged, and
// whether a DM crossed. With `--import ./no-libsodium.ts` libsodium cannot load, as in a packaged
// app whose WebAssembly could not be read.
import { defaultConfig, mergeConfig } from '../../src-main/engine/config.ts';
import { Engine } from '../../src-main/engine/engine.ts';
import { Logger, streamSink } from '../../src-main/engine/log.ts';
import { aead, generateKeyPair } from '../../src-main/engine/secure/noise.ts';
import { startRendezvousServer } from '../../src-main/rendezvous-server/server.ts';

// As the module graph left it: no top-level await held the import for libsodium.
const atImport = aead.name;
const rendezvous = await startRendezvousServer({ host: '127.0.0.1', port: 0, logger: new Logger({ level: 'ERROR', sink: streamSink() }) });
const logs: string[] = [];
const start = async (name: string) => {
  const engine = new Engine({
    identity: generateKeyPair(),
    config: mergeConfig(defaultConfig({ name, namespace: 'CIC', port: 0 }), {
      listenHost: '127.0.0.1',
      rendezvous: { host: '127.0.0.1', port: rendezvous.port, discoverIntervalMs: 200 },
      logging: { level: 'WARN' },
    }),
  });
  engine.on('log', (l) => logs.push(`${l.level} ${l.message}`));
  await engine.start();
  return engine;
};
const alice = await start('alice');
const bob = await start('bob');
const deadline = Date.now() + 10_000;
const security = () => alice.peers().find((p) => p.peerId === 'bob@CIC' && p.state === 'open')?.security;
while (security() !== 'encrypted' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const received = new Promise<string>((resolve) => bob.on('message', (m) => resolve(m.text)));
alice.sendDirect('bob@CIC', 'selado');
const text = await Promise.race([received, new Promise<string>((r) => setTimeout(() => r('(nothing)'), 10_000).unref())]);
process.stdout.write(JSON.stringify({ atImport, afterStart: aead.name, security: security(), received: text, logs }) + '\n');
await alice.stop();
await bob.stop();
await rendezvous.close();
