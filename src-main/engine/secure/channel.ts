// The secure channel of one connection: the Noise XX handshake in NOISE frames, then the byte
// stream of ordinary frames sealed in SEALED frames (docs/SECURE.md). It sits between wire/ and
// peers/: the connection hands it lines and bytes, and the router never knows it is there.
//
// The plaintext inside the boxes is the same NDJSON a plain connection carries, cut anywhere: a
// batch of frames is one box, a frame too big for one box spans two, and the inner reader keeps
// the 32768-byte line limit. A file chunk is its own SEALED_CHUNK box instead: its header line and
// the raw bytes, so that they are base64-encoded once (the box's), not twice.

import { LineReader, encodeFrame } from '../wire/framing.ts';
import { HandshakeState, NoiseError, type KeyPair, type Transport } from './noise.ts';

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

/** The peer broke the secure channel: a frame that does not open, or one that has no place here. */
export class SecureChannelError extends Error {}

export class SecureChannel {
  private handshake: HandshakeState | undefined;
  private transport: Transport | undefined;
  private readonly inner = new LineReader();

  constructor(options: { initiator: boolean; prologue: Uint8Array; staticKey: KeyPair }) {
    this.handshake = new HandshakeState({ pattern: 'XX', initiator: options.initiator, prologue: options.prologue, staticKey: options.staticKey });
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
   * SEALED one, whose frames go to `onLine`, or a SEALED_CHUNK one, whose header line and bytes
   * go to `onChunk`. Throws SecureChannelError for anything else.
   */
  read(line: string, onLine: (line: Buffer) => void, onChunk: (head: string, data: Buffer) => void): Buffer | undefined {
    if (this.transport === undefined) return this.onNoise(field(line, 'NOISE', 'msg'));
    const chunk = boxOf(line, SEALED_CHUNK_HEAD);
    if (chunk !== undefined) this.openChunk(chunk, onChunk);
    else this.open(boxOf(line, SEALED_HEAD) ?? field(line, 'SEALED', 'box'), onLine);
    return undefined;
  }

  private onNoise(msg: unknown): Buffer | undefined {
    const hs = this.handshake!;
    try {
      hs.readMessage(decodeBase64(msg));
      const answer = hs.ourTurn && !hs.finished ? this.noiseFrame(hs.writeMessage()) : undefined;
      if (hs.finished) {
        this.transport = hs.transport();
        this.handshake = undefined;
      }
      return answer;
    } catch (err) {
      if (err instanceof NoiseError) throw new SecureChannelError(`handshake failed: ${err.message}`);
      throw err;
    }
  }

  /** Our frames as SEALED lines, ready for the socket, written straight into one buffer. */
  seal(bytes: Buffer): Buffer {
    const send = this.transport!.send;
    const boxes = Math.ceil(bytes.length / MAX_BOX_PLAINTEXT);
    const base64Length = (plain: number) => Math.ceil((plain + TAG_BYTES) / 3) * 4;
    const last = bytes.length - (boxes - 1) * MAX_BOX_PLAINTEXT;
    if (boxes === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(boxes * (SEALED_HEAD.length + SEALED_TAIL.length) + (boxes - 1) * base64Length(MAX_BOX_PLAINTEXT) + base64Length(last));
    let end = 0;
    for (let i = 0; i < boxes; i++) {
      const box = send.encryptWithAd(NO_AD, bytes.subarray(i * MAX_BOX_PLAINTEXT, (i + 1) * MAX_BOX_PLAINTEXT));
      // ASCII all through: copied as it is, not scanned as UTF-8 (every file chunk passes here).
      end += out.write(SEALED_HEAD, end, 'latin1');
      end += out.write(Buffer.from(box.buffer, box.byteOffset, box.length).toString('base64'), end, 'latin1');
      end += out.write(SEALED_TAIL, end, 'latin1');
    }
    return out;
  }

  /**
   * One file chunk as a SEALED_CHUNK line: its header line and its bytes in one box, in the nonce
   * order of every other box (the caller seals in the order it writes).
   */
  sealChunk(head: string, data: Buffer): Buffer {
    const plaintext = Buffer.allocUnsafe(head.length + data.length);
    data.copy(plaintext, plaintext.write(head, 0, 'latin1'));
    const box = this.transport!.send.encryptWithAd(CHUNK_AD, plaintext);
    const base64 = Buffer.from(box.buffer, box.byteOffset, box.length).toString('base64');
    const out = Buffer.allocUnsafe(SEALED_CHUNK_HEAD.length + base64.length + SEALED_TAIL.length);
    let end = out.write(SEALED_CHUNK_HEAD, 0, 'latin1');
    end += out.write(base64, end, 'latin1');
    out.write(SEALED_TAIL, end, 'latin1');
    return out;
  }

  /** Opens one box: one that does not is altered, replayed, reordered or not from the peer. */
  private open(box: unknown, onLine: (line: Buffer) => void): void {
    const plaintext = this.decrypt(NO_AD, box);
    if (!this.inner.push(plaintext, onLine)) throw new SecureChannelError('sealed line over the 32768-byte limit');
  }

  private openChunk(box: string, onChunk: (head: string, data: Buffer) => void): void {
    const plaintext = this.decrypt(CHUNK_AD, box);
    const nl = plaintext.subarray(0, MAX_CHUNK_HEAD).indexOf(NEWLINE);
    if (nl === -1) throw new SecureChannelError('a SEALED_CHUNK box without its header line');
    onChunk(plaintext.toString('utf8', 0, nl), plaintext.subarray(nl + 1));
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
