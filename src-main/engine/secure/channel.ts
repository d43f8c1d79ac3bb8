// The secure channel of one connection: the Noise XX handshake in NOISE frames, then the byte
// stream of ordinary frames sealed in SEALED frames (docs/SECURE.md). It sits between wire/ and
// peers/: the connection hands it lines and bytes, and the router never knows it is there.
//
// The plaintext inside the boxes is the same NDJSON a plain connection carries, cut anywhere: a
// batch of frames is one box, a frame too big for one box spans two, and the inner reader keeps
// the 32768-byte line limit. A file chunk is its own SEALED_CHUNK box instead: its header line and
// the raw bytes, so that they are base64-encoded once (the box's), not twice.
//
// Where ChaCha20-Poly1305 is libsodium's WebAssembly (Electron), the chunk boxes are sealed and
// opened in a worker thread (box-worker.ts). Their nonces are still taken here, in wire order, and
// whatever comes after a chunk box still waiting for the worker waits behind it: lines leave, and
// frames reach the connection, in the order of the counter.

import { LineReader, encodeFrame } from '../wire/framing.ts';
import { boxWorker, type BoxWorker } from './box-worker.ts';
import { HandshakeState, NoiseError, aead, type KeyPair, type Transport } from './noise.ts';

/**
 * Plaintext per box: its SEALED line (base64 of it and the 16-byte tag, plus the envelope) must
 * stay under the 32768-byte line limit.
 */
export const MAX_BOX_PLAINTEXT = 24_000;
const TAG_BYTES = 16;
/** The longest base64 a NOISE or SEALED frame may hold: a bigger one is not ours. */
const MAX_BASE64 = Math.ceil((MAX_BOX_PLAINTEXT + TAG_BYTES) / 3) * 4;
const NO_AD = new Uint8Array(0);
/** A SEALED_CHUNK box's associated data: a box cannot be moved from one kind of frame to the other. */
const CHUNK_AD = new TextEncoder().encode('FILE_CHUNK');
/** The longest header line a SEALED_CHUNK box may start with. */
const MAX_CHUNK_HEAD = 256;
const NEWLINE = 0x0a;

/** The worker for chunk boxes where the runtime's ChaCha20-Poly1305 is libsodium's, not native (as in Electron). */
export const defaultChunkBoxes = (): BoxWorker | undefined => (aead.name === 'libsodium' ? boxWorker : undefined);

/** The peer broke the secure channel: a frame that does not open, or one that has no place here. */
export class SecureChannelError extends Error {}

/** What we send: frames as their bytes, and each file chunk as its header line and raw bytes. */
export interface OutgoingPart {
  bytes: Buffer;
  chunkHead?: string;
}

/** Where the channel hands what it made: lines for the socket, the peer's frames and chunks, and its end. */
export interface ChannelSink {
  write(bytes: Buffer): void;
  line(line: Buffer): void;
  chunk(head: string, data: Buffer): void;
  /** The channel is broken (a frame that does not open, or has no place here): nothing more comes. */
  error(err: SecureChannelError): void;
}

export class SecureChannel {
  private handshake: HandshakeState | undefined;
  private transport: Transport | undefined;
  private readonly inner = new LineReader();
  private readonly sink: ChannelSink;
  private readonly boxes: BoxWorker | undefined;
  private broken = false;
  /**
   * Lines for the socket, in nonce order; a sealed line still being made holds back those after it
   * (and a step to take once the lines before it are written).
   */
  private readonly outbox: InOrder<Buffer | (() => void)>;
  /** The peer's frames and chunks, in nonce order; a chunk box still being opened holds back those after it. */
  private readonly inbox: InOrder<() => void>;

  constructor(options: { initiator: boolean; prologue: Uint8Array; staticKey: KeyPair; sink: ChannelSink; boxes?: BoxWorker }) {
    this.handshake = new HandshakeState({ pattern: 'XX', initiator: options.initiator, prologue: options.prologue, staticKey: options.staticKey });
    this.sink = options.sink;
    this.boxes = options.boxes ?? defaultChunkBoxes();
    const fail = (err: unknown) => this.fail(err instanceof SecureChannelError ? err : new SecureChannelError(`chunk box not made: ${(err as Error).message}`));
    this.outbox = new InOrder((items) => {
      let lines: Buffer[] = [];
      const write = () => {
        if (lines.length > 0) this.sink.write(lines.length === 1 ? lines[0]! : Buffer.concat(lines));
        lines = [];
      };
      for (const item of items) {
        if (Buffer.isBuffer(item)) {
          lines.push(item);
        } else {
          write();
          item();
        }
      }
      write();
    }, fail);
    this.inbox = new InOrder((steps) => {
      for (const step of steps) if (!this.broken) step();
    }, fail);
  }

  /** The handshake is done: frames are sealed from now on. */
  get ready(): boolean {
    return this.transport !== undefined;
  }

  /** The peer's long-term X25519 public key, once the handshake proved it holds the private one. */
  get remoteKey(): Uint8Array | undefined {
    return this.transport?.remoteStatic;
  }

  /** The initiator's first handshake frame. */
  start(): Buffer {
    return this.noiseFrame(this.handshake!.writeMessage());
  }

  /**
   * One line from the peer. During the handshake it must be a NOISE frame: returns our answer, if
   * it is our turn (sent as it is, though the channel may be up once it is made). Then it must be a
   * SEALED one, whose frames go to the sink's `line`, or a SEALED_CHUNK one, whose header line and
   * bytes go to its `chunk`. Anything else breaks the channel (the sink's `error`).
   */
  read(line: string): Buffer | undefined {
    if (this.broken) return undefined;
    try {
      if (this.transport === undefined) return this.onNoise(field(line, 'NOISE', 'msg'));
      const chunk = boxOf(line, SEALED_CHUNK_HEAD);
      if (chunk !== undefined) this.openChunk(chunk);
      else this.open(boxOf(line, SEALED_HEAD) ?? field(line, 'SEALED', 'box'));
    } catch (err) {
      if (!(err instanceof SecureChannelError)) throw err;
      this.fail(err);
    }
    return undefined;
  }

  /** Our frames and file chunks, sealed in this order and written in it. */
  send(parts: readonly OutgoingPart[]): void {
    if (this.broken) return;
    let run: Buffer[] = [];
    const sealRun = () => {
      if (run.length > 0) this.outbox.push(this.seal(run.length === 1 ? run[0]! : Buffer.concat(run)));
      run = [];
    };
    for (const part of parts) {
      if (part.chunkHead === undefined) {
        run.push(part.bytes);
        continue;
      }
      sealRun();
      this.outbox.push(this.sealChunk(part.chunkHead, part.bytes));
    }
    sealRun();
  }

  /** Calls `then` once every line sealed so far is written: at once, unless one waits for the worker. */
  afterWrites(then: () => void): void {
    if (this.broken) then();
    else this.outbox.push(then);
  }

  private fail(err: SecureChannelError): void {
    if (this.broken) return;
    this.broken = true;
    // No line after it leaves, but the steps waiting for them are still taken.
    for (const item of this.outbox.clear()) if (typeof item === 'function') item();
    this.inbox.clear();
    this.sink.error(err);
  }

  private onNoise(msg: unknown): Buffer | undefined {
    const hs = this.handshake!;
    try {
      hs.readMessage(decodeBase64(msg));
      const answer = hs.ourTurn && !hs.finished ? this.noiseFrame(hs.writeMessage()) : undefined;
      if (hs.finished) {
        this.transport = hs.transport();
        this.handshake = undefined;
        this.boxes?.start();
      }
      return answer;
    } catch (err) {
      if (err instanceof NoiseError) throw new SecureChannelError(`handshake failed: ${err.message}`);
      throw err;
    }
  }

  /** Frames as SEALED lines, ready for the socket, written straight into one buffer. */
  private seal(bytes: Buffer): Buffer {
    const send = this.transport!.send;
    const boxes = Math.ceil(bytes.length / MAX_BOX_PLAINTEXT);
    const base64Length = (plain: number) => Math.ceil((plain + TAG_BYTES) / 3) * 4;
    const last = bytes.length - (boxes - 1) * MAX_BOX_PLAINTEXT;
    if (boxes === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(boxes * (SEALED_HEAD.length + SEALED_TAIL.length) + (boxes - 1) * base64Length(MAX_BOX_PLAINTEXT) + base64Length(last));
    let end = 0;
    for (let i = 0; i < boxes; i++) {
      end = writeBoxLine(out, end, SEALED_HEAD, send.encryptWithAd(NO_AD, bytes.subarray(i * MAX_BOX_PLAINTEXT, (i + 1) * MAX_BOX_PLAINTEXT)));
    }
    return out;
  }

  /**
   * One file chunk as a SEALED_CHUNK line: its header line and its bytes in one box, with the next
   * nonce of the one counter (taken now, whoever seals it).
   */
  private sealChunk(head: string, data: Buffer): Buffer | Promise<Buffer> {
    // A buffer of its own (never a slice of a pool), with room for the tag: the worker takes it
    // whole and brings the box back in it.
    const plaintext = Buffer.allocUnsafeSlow(head.length + data.length + TAG_BYTES).subarray(0, head.length + data.length);
    data.copy(plaintext, plaintext.write(head, 0, 'latin1'));
    const send = this.transport!.send;
    if (this.boxes === undefined) return chunkLine(send.encryptWithAd(CHUNK_AD, plaintext));
    const { k, nonce } = send.take();
    return this.boxes.run({ open: false, key: k, nonce, ad: CHUNK_AD, data: plaintext }).then((box) => {
      if (box === null) throw new SecureChannelError('a chunk box could not be sealed');
      return chunkLine(box);
    });
  }

  /** Opens one box: one that does not is altered, replayed, reordered or not from the peer. */
  private open(box: unknown): void {
    const plaintext = this.decrypt(NO_AD, box);
    this.inbox.push(() => {
      if (!this.inner.push(plaintext, (line) => this.sink.line(line))) this.fail(new SecureChannelError('sealed line over the 32768-byte limit'));
    });
  }

  private openChunk(box: string): void {
    if (this.boxes === undefined) {
      const plaintext = this.decrypt(CHUNK_AD, box);
      this.inbox.push(() => this.onChunk(plaintext));
      return;
    }
    const sealed = decodeBase64Alone(box);
    const { k, nonce } = this.transport!.receive.take();
    this.inbox.push(
      this.boxes.run({ open: true, key: k, nonce, ad: CHUNK_AD, data: sealed }).then((plaintext) => {
        if (plaintext === null) throw new SecureChannelError('sealed frame does not open: message does not open (altered, replayed, reordered or wrong key)');
        return () => this.onChunk(Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length));
      }),
    );
  }

  private onChunk(plaintext: Buffer): void {
    const nl = plaintext.subarray(0, MAX_CHUNK_HEAD).indexOf(NEWLINE);
    if (nl === -1) this.fail(new SecureChannelError('a SEALED_CHUNK box without its header line'));
    else this.sink.chunk(plaintext.toString('utf8', 0, nl), plaintext.subarray(nl + 1));
  }

  private decrypt(ad: Uint8Array, box: unknown): Buffer {
    let plaintext: Uint8Array;
    try {
      plaintext = this.transport!.receive.decryptWithAd(ad, decodeBase64(box));
    } catch (err) {
      if (err instanceof NoiseError) throw new SecureChannelError(`sealed frame does not open: ${err.message}`);
      throw err;
    }
    return Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length);
  }

  private noiseFrame(message: Uint8Array): Buffer {
    return encodeFrame({ type: 'NOISE', msg: Buffer.from(message).toString('base64') });
  }
}

const SEALED_HEAD = '{"type":"SEALED","box":"';
const SEALED_CHUNK_HEAD = '{"type":"SEALED_CHUNK","box":"';
const SEALED_TAIL = '"}\n';

/** Writes one box as a `head`…`"}` line into `out` at `at`; returns where the line ends. */
function writeBoxLine(out: Buffer, at: number, head: string, box: Uint8Array): number {
  // ASCII all through: copied as it is, not scanned as UTF-8 (every file chunk passes here).
  let end = at + out.write(head, at, 'latin1');
  end += out.write(Buffer.from(box.buffer, box.byteOffset, box.length).toString('base64'), end, 'latin1');
  return end + out.write(SEALED_TAIL, end, 'latin1');
}

function chunkLine(box: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SEALED_CHUNK_HEAD.length + Math.ceil(box.length / 3) * 4 + SEALED_TAIL.length);
  writeBoxLine(out, 0, SEALED_CHUNK_HEAD, box);
  return out;
}

/**
 * Items handed on in the order they came, each once it is ready: one still a promise holds back
 * those after it. A promise that rejects goes to `failed`, whose caller ends the queue (clear).
 */
class InOrder<T> {
  private readonly items: (T | Promise<T>)[] = [];
  private readonly ready: (items: T[]) => void;
  private readonly failed: (err: unknown) => void;

  constructor(ready: (items: T[]) => void, failed: (err: unknown) => void) {
    this.ready = ready;
    this.failed = failed;
  }

  push(item: T | Promise<T>): void {
    // A failure counts once it is at the head (drain); behind a failed one, nothing waits for it.
    if (item instanceof Promise) item.catch(() => undefined);
    this.items.push(item);
    if (this.items.length === 1) this.drain();
  }

  /** Drops every item; returns those that were ready. */
  clear(): T[] {
    return this.items.splice(0).filter((item): item is T => !(item instanceof Promise));
  }

  private drain(): void {
    const ready: T[] = [];
    while (this.items.length > 0 && !(this.items[0] instanceof Promise)) ready.push(this.items.shift() as T);
    const head = this.items[0];
    if (head instanceof Promise) {
      head.then(
        (value) => {
          if (this.items[0] !== head) return;
          this.items[0] = value;
          this.drain();
        },
        (err: unknown) => {
          if (this.items[0] === head) this.failed(err);
        },
      );
    }
    if (ready.length > 0) this.ready(ready);
  }
}

/** The box of a SEALED or SEALED_CHUNK line in the exact form we write it, without a JSON parse; undefined for any other form. */
function boxOf(line: string, head: string): string | undefined {
  if (!line.startsWith(head) || !line.endsWith('"}')) return undefined;
  const box = line.slice(head.length, -2);
  return box.includes('"') || box.includes('\\') ? undefined : box;
}

/** The one field of a NOISE or SEALED frame; anything else has no place at that point. */
function field(line: string, type: 'NOISE' | 'SEALED', name: 'msg' | 'box'): unknown {
  const where = type === 'NOISE' ? 'during the Noise handshake' : 'on a sealed connection';
  let frame: unknown;
  try {
    frame = JSON.parse(line);
  } catch {
    throw new SecureChannelError(`a frame that is not JSON ${where}`);
  }
  const value = (typeof frame === 'object' && frame !== null ? frame : {}) as Record<string, unknown>;
  if (value.type !== type) throw new SecureChannelError(`${typeof value.type === 'string' ? value.type.slice(0, 32) : 'a frame'} ${where}`);
  return value[name];
}

/**
 * No character check (it cost half of opening a box): a box whose bytes changed fails its tag, and
 * characters the decoder skips change no byte of it.
 */
function decodeBase64(value: unknown): Uint8Array {
  if (typeof value !== 'string' || value.length > MAX_BASE64) throw new NoiseError('not base64 of a size we send');
  return Buffer.from(value, 'base64');
}

/** The same, into a buffer of its own (never a slice of a pool), for the worker to take whole. */
function decodeBase64Alone(value: string): Uint8Array {
  if (value.length > MAX_BASE64) throw new SecureChannelError('sealed frame does not open: not base64 of a size we send');
  const bytes = Buffer.allocUnsafeSlow(Math.ceil(value.length / 4) * 3);
  return bytes.subarray(0, bytes.write(value, 'base64'));
}
