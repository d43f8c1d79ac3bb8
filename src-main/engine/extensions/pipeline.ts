// The `chatp2p-pipeline` extension (PROTOCOL.md §5): "my reader handles many frames per read".
// Toward a peer that proved it, SENDs keep a window in flight and frames leave back to back;
// toward any other, one frame at a time, paced by what the peer has read (peers/connection.ts).

export const FEATURE_PIPELINE = 'chatp2p-pipeline';

/** How many of our SENDs may wait for their ACK at once on a connection with these extensions. */
export function sendWindow(extensions: ReadonlySet<string>, configuredWindow: number): number {
  return extensions.has(FEATURE_PIPELINE) ? configuredWindow : 1;
}
