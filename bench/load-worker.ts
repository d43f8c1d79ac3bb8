// Load generator for bench/rendezvous.ts. It runs in a worker thread so that the clients do not
// share the event loop of the server under test.

import { connect } from 'node:net';
import { parentPort } from 'node:worker_threads';

export interface LoadSpec {
  port: number;
  /** Request lines without newline, sent in turn across all clients. */
  lines: string[];
  clients: number;
  /** The run stops at `count` requests or after `ms`, whichever comes first. */
  count: number;
  ms: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** Size of an OK reply, newline included. */
  replyBytes: number;
  firstFailure?: string;
}

const OK = '{"status": "OK"';

/** One request per connection, as the protocol has it: connect, send a line, read until the server closes. */
function request(port: number, line: string): Promise<{ head: string; bytes: number }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let error: Error | undefined;
    const socket = connect({ host: '127.0.0.1', port, noDelay: true }, () => socket.write(line + '\n'));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
    });
    socket.on('error', (err) => (error = err));
    // Only the head is decoded: turning every 55 KB DISCOVER reply into a string would tax the
    // core the server needs.
    socket.on('close', () =>
      resolve({ head: error ? `error: ${error.message}` : Buffer.concat(chunks, Math.min(bytes, 200)).toString(), bytes }),
    );
  });
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  let replyBytes = 0;
  let firstFailure: string | undefined;
  const start = performance.now();
  const deadline = start + spec.ms;
  const client = async () => {
    while (next < spec.count && performance.now() < deadline) {
      const line = spec.lines[next++ % spec.lines.length]!;
      const t0 = performance.now();
      const { head, bytes } = await request(spec.port, line);
      latencies.push(performance.now() - t0);
      if (head.startsWith(OK)) {
        replyBytes = bytes;
      } else {
        failures++;
        firstFailure ??= head;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.clients }, client));
  const seconds = (performance.now() - start) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { requests: latencies.length, seconds, p50Ms: at(0.5), p99Ms: at(0.99), failures, replyBytes, firstFailure };
}

parentPort!.on('message', (spec: LoadSpec) => void run(spec).then((result) => parentPort!.postMessage(result)));
