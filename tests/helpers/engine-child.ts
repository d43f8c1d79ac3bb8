// One engine in a process of its own, so that a test can kill it as the OS kills a crashed app:
// no BYE, no UNREGISTER, sockets closed by the kernel. Started by `spawnEngine` below.
// argv: <rendezvous port> <name> <namespace> <listen port>. It prints one JSON line per event:
// {"ready":port}, then {"message":text} for every message it receives.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultConfig, mergeConfig } from '../../src-main/engine/config.ts';
import { Engine } from '../../src-main/engine/engine.ts';

export interface EngineProcess {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** Texts of the messages it received so far. */
  messages: string[];
  /** Sends SIGKILL and resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Starts the engine child; resolves once it listens. */
export function spawnEngine(rendezvousPort: number, name: string, namespace: string, port = 0): Promise<EngineProcess> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(import.meta.url), String(rendezvousPort), name, namespace, String(port)]);
  const messages: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line) as { ready?: number; message?: string };
        if (event.message !== undefined) messages.push(event.message);
        if (event.ready !== undefined) {
          resolve({
            child,
            port: event.ready,
            messages,
            kill: () => {
              child.kill('SIGKILL');
              return exited;
            },
          });
        }
      }
    });
    void exited.then(() => reject(new Error(`engine child exited before it was ready: ${stderr}`)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [rendezvousPort, name, namespace, port] = process.argv.slice(2);
  const engine = new Engine({
    config: mergeConfig(defaultConfig({ name: name!, namespace: namespace!, port: Number(port) }), {
      listenHost: '127.0.0.1',
      rendezvous: { host: '127.0.0.1', port: Number(rendezvousPort), discoverIntervalMs: 200, maxRequestsPerMinute: 49 },
      network: { ackTimeoutMs: 1_000, handshakeTimeoutMs: 1_000, byeTimeoutMs: 500 },
      peerConnection: { backoffBaseMs: 50, backoffMaxMs: 200 },
      logging: { level: 'ERROR' },
    }),
  });
  engine.on('message', (m) => process.stdout.write(JSON.stringify({ message: m.text }) + '\n'));
  const status = await engine.start();
  process.stdout.write(JSON.stringify({ ready: status.listen.port }) + '\n');
}
