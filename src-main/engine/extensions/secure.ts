// The `chatp2p-secure` extension (PROTOCOL.md §5, docs/SECURE.md): between two peers that both
// advertise it (and, for a responder, prove it: negotiation.ts), a Noise XX handshake follows
// HELLO/HELLO_OK and every later frame is sealed (secure/channel.ts). Who the peer's key belongs
// to is decided in secure/trust.ts.

export const FEATURE_SECURE = 'chatp2p-secure';

/**
 * What both sides feed Noise as its prologue: the HELLO and HELLO_OK lines exactly as they crossed
 * the wire, so that a changed or stripped feature token (or any other byte) fails the handshake.
 */
export function securePrologue(helloLine: Uint8Array, helloOkLine: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from('chatp2p-secure/1\n'), helloLine, Buffer.from('\n'), helloOkLine, Buffer.from('\n')]);
}
