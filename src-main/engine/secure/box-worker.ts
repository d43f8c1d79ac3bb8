// File chunk boxes sealed and opened in a worker thread, where the runtime's ChaCha20-Poly1305 is
// libsodium's WebAssembly (Electron's): there a box costs more than everything else a chunk does,
// and the event loop's core stays free for the rest of the transfer and for chat. The nonce of
// each box is taken on the event loop, in wire order (secure/channel.ts); the one worker does the
// jobs in the order they were posted and answers in that order, so the results come back in the
// order the channel asked for them. A worker that cannot load libsodium, or dies, is not started
// again: the boxes it held are lost (their connections drop and resume), and the jobs after it run
// on the event loop, as they would without a worker.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { aead } from './noise.ts';

/** One box: its key, nonce and associated data, and the plaintext to seal or the box to open. */
export interface BoxJob {
  open: boolean;
  key: Uint8Array;
  nonce: Uint8Array;
  ad: Uint8Array;
  /**
   * Moved to the worker (transferred): the caller gives up its buffer, whole, and the result comes
   * back in it, so it needs room for the 16-byte tag after a plaintext.
   */
  data: Uint8Array;
}

// The worker's whole program: libsodium's ChaCha20-Poly1305 on each job, null for a box that does
// not open. Each result goes back in the job's own buffer, so the buffers the event loop frees are
// ones its thread allocated (the worker's, freed there, grew the process's RSS by tens of MB more
// over a 1 GB transfer). CommonJS, evaluated (a file beside the bundle is one more thing to ship).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const sodium = require(workerData.libsodium);
sodium.ready.then(() => {
  parentPort.on('message', (jobs) => {
    const results = jobs.map((job) => {
      try {
        const result = job.open
          ? sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, job.data, job.ad, job.nonce, job.key)
          : sodium.crypto_aead_chacha20poly1305_ietf_encrypt(job.data, job.ad, null, job.nonce, job.key);
        const out = new Uint8Array(job.data.buffer, job.data.byteOffset, result.length);
        out.set(result);
        return out;
      } catch {
        return null;
      }
    });
    parentPort.postMessage(results, results.filter((r) => r !== null).map((r) => r.buffer));
  });
});
`;

interface Pending {
  resolve: (result: Uint8Array | null) => void;
  reject: (err: Error) => void;
}

/** The job on the event loop: what a worker that could not run leaves to do. */
function runHere(job: BoxJob): Uint8Array | null {
  if (!job.open) return aead.seal(job.key, job.nonce, job.ad, job.data);
  try {
    return aead.open(job.key, job.nonce, job.ad, job.data);
  } catch {
    return null;
  }
}

export class BoxWorker {
  private readonly module: string;
  private worker: Worker | undefined;
  /** The worker failed (it could not load libsodium, or it died): jobs run on the event loop from then on. */
  private failed = false;
  /** Jobs of this turn of the event loop, posted together at its end. */
  private batch: BoxJob[] = [];
  private readonly waiting: Pending[] = [];
  /** Boxes sealed or opened so far, in the worker. */
  done = 0;

  /** `module`: the libsodium-wrappers build the worker loads. */
  constructor(module = 'libsodium-wrappers') {
    this.module = module;
  }

  /** Resolves with the sealed box or the opened plaintext, or null for a box that does not open. */
  run(job: BoxJob): Promise<Uint8Array | null> {
    if (this.failed) return Promise.resolve(runHere(job));
    if (this.batch.length === 0) queueMicrotask(() => this.post());
    this.batch.push(job);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private post(): void {
    const jobs = this.batch;
    this.batch = [];
    if (jobs.length === 0) return;
    this.start();
    const worker = this.worker;
    if (worker === undefined) {
      // No worker to be had: these are still whole, and done here, in order.
      for (const job of jobs) this.waiting.shift()?.resolve(runHere(job));
      return;
    }
    worker.postMessage(jobs, jobs.map((job) => job.data.buffer as ArrayBuffer));
    // Alive while it has work: a box it owes holds the process as the socket waiting for it would.
    worker.ref();
  }

  /**
   * Starts the worker, if it is not running: done when a secure session opens, so that the first
   * chunk boxes (and the chat behind them) do not wait for a thread and libsodium to load.
   */
  start(): void {
    if (this.worker !== undefined || this.failed) return;
    let libsodium: string;
    try {
      libsodium = createRequire(import.meta.url).resolve(this.module);
    } catch {
      this.failed = true;
      return;
    }
    // A small young generation: at full speed V8 would let the worker's grow to tens of MB of RSS
    // for garbage that lives one job (with 2 MB, a 256 MB transfer grows the process by under 30 MB).
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { libsodium }, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    worker.on('message', (results: (Uint8Array | null)[]) => {
      this.done += results.length;
      for (const result of results) this.waiting.shift()?.resolve(result);
      if (this.waiting.length === 0) worker.unref();
    });
    worker.on('error', (err) => {
      // The boxes it held are lost (their buffers moved to it): their channels break, and the
      // connections come back on the event loop's ChaCha20-Poly1305.
      this.worker = undefined;
      this.failed = true;
      this.batch = [];
      for (const pending of this.waiting.splice(0)) pending.reject(new Error(`box worker: ${err.message}`));
    });
    // Idle, it holds nothing open; while it has work, post() refs it.
    worker.unref();
    this.worker = worker;
  }
}

/** The process's one worker, started on first use. */
export const boxWorker = new BoxWorker();
