// PyP2P framing: UTF-8 JSON objects, one per `\n`-terminated line, at most 32768 bytes per line
// including the newline (PROTOCOL.md §3).

export const MAX_LINE_BYTES = 32768;
const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines. Frames split across reads and many frames in one read both
 * work; a line that outgrows the limit is reported as soon as it does, so it is never buffered whole.
 */
export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;

  /** Calls `onLine` for every complete line in `chunk`; returns false once a line is over the limit. */
  push(chunk: Buffer, onLine: (line: Buffer) => void): boolean {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      if (this.size + (nl - start) + 1 > MAX_LINE_BYTES) return false;
      let line = chunk.subarray(start, nl);
      if (this.size > 0) {
        this.parts.push(line);
        line = Buffer.concat(this.parts, this.size + line.length);
        this.parts = [];
        this.size = 0;
      }
      start = nl + 1;
      onLine(line);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Without its newline the line already needs more than the limit.
      if (this.size + rest.length + 1 > MAX_LINE_BYTES) return false;
      this.parts.push(rest);
      this.size += rest.length;
    }
    return true;
  }
}

export class FrameTooLargeError extends Error {
  readonly bytes: number;
  constructor(bytes: number) {
    super(`frame of ${bytes} bytes is over the ${MAX_LINE_BYTES}-byte line limit`);
    this.bytes = bytes;
  }
}

/** One JSON line, ready for the socket. */
export function encodeFrame(message: object): Buffer {
  const frame = Buffer.from(JSON.stringify(message) + '\n', 'utf8');
  if (frame.length > MAX_LINE_BYTES) throw new FrameTooLargeError(frame.length);
  return frame;
}
