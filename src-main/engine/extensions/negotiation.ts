// The one place that decides which of our extensions (PROTOCOL.md §5) a connection uses, from
// evidence an echo cannot fake: some peers copy the dialer's `features` into HELLO_OK (§4).
//
// - A dialer speaks first: the tokens in its HELLO cannot copy anything we said on that
//   connection, so they count as they are.
// - A responder may be echoing. Our HELLO carries a fresh random challenge, and its tokens count
//   only when its HELLO_OK carries the proof: a hash of that challenge and of the tokens it claims.
//   A peer that copies fields has nothing to copy it from.
// A later extension adds its token to EXTENSIONS; one that needs more evidence (keys, say) adds
// its check to `negotiate`.

import { createHash, randomBytes } from 'node:crypto';
import { FEATURE_FILES } from './files.ts';
import { FEATURE_PIPELINE } from './pipeline.ts';
import { FEATURE_RECEIPTS } from './receipts.ts';
import { FEATURE_SECURE } from './secure.ts';

export const EXTENSIONS: readonly string[] = [FEATURE_PIPELINE, FEATURE_SECURE, FEATURE_FILES, FEATURE_RECEIPTS];
export const OUR_FEATURES: readonly string[] = ['ack', 'metrics', ...EXTENSIONS];

/** The extra HELLO field holding the dialer's challenge, and the HELLO_OK field answering it. */
export const CHALLENGE_FIELD = 'chatp2p_challenge';
export const PROOF_FIELD = 'chatp2p_proof';

export function newChallenge(): string {
  return randomBytes(16).toString('base64url');
}

const ours = (features: readonly string[]) => EXTENSIONS.filter((token) => features.includes(token));

/** What a real implementation answers to `challenge` when it advertises `features`. */
export function proofOf(challenge: string, features: readonly string[]): string {
  return createHash('sha256').update(`chatp2p-hello-ok\n${challenge}\n${ours(features).join(' ')}`).digest('base64url');
}

/** The extra HELLO_OK field for a dialer's challenge, from a responder advertising `features`. */
export function answerFields(challenge: unknown, features: readonly string[] = OUR_FEATURES): Record<string, string> {
  if (typeof challenge !== 'string' || ours(features).length === 0) return {};
  return { [PROOF_FIELD]: proofOf(challenge, features) };
}

export type HelloEvidence =
  /** We answered its HELLO: what that HELLO advertised. */
  | { direction: 'inbound'; features: readonly string[] }
  /** We dialed: our HELLO's challenge and what its HELLO_OK said. */
  | { direction: 'outbound'; challenge: string | undefined; features: readonly string[]; proof: string | undefined };

/** The extensions this connection may use: those we offered that the peer advertised, as far as the evidence goes. */
export function negotiate(evidence: HelloEvidence, offered: readonly string[] = OUR_FEATURES): ReadonlySet<string> {
  if (evidence.direction === 'outbound') {
    const { challenge, proof } = evidence;
    if (challenge === undefined || proof === undefined || proof !== proofOf(challenge, evidence.features)) return new Set();
  }
  return new Set(ours(evidence.features).filter((token) => offered.includes(token)));
}
