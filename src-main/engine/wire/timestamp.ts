// Peers send `timestamp` as `...Z`, `...+00:00`, a naive local time, or an epoch number
// (PROTOCOL.md §4). It is informative only: never required, never a reason to reject a frame.

const ISO_LIKE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/** Milliseconds since the epoch, or undefined when the value is absent or unreadable. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    // Python's time.time() is in seconds; JavaScript's Date.now() in milliseconds.
    const ms = value < 1e11 ? value * 1000 : value;
    // Beyond the last date a Date can hold (8.64e15 ms) it is no time at all.
    return ms <= 8.64e15 ? ms : undefined;
  }
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return parseTimestamp(Number(text));
  if (!ISO_LIKE.test(text)) return undefined;
  // Python's isoformat() may carry microseconds; Date keeps milliseconds. Date.parse reads a time
  // without a zone as local time, which is what such peers mean.
  const ms = Date.parse(
    text
      .replace(' ', 'T')
      .replace(/(\.\d{3})\d+/, '$1')
      .replace(/([+-]\d{2})(\d{2})$/, '$1:$2'),
  );
  return Number.isFinite(ms) ? ms : undefined;
}

export function isoNow(now: number): string {
  return new Date(now).toISOString();
}
