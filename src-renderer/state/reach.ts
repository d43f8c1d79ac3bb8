// How well we are on the network, in one word the status bar and the peer panel both show: read
// from the last exchange with the rendezvous server, not only from the registration's state (a
// record that is still valid on a server nobody can reach is not "online").

import type { AppStatus } from '../../src-shared/chat-api.ts';

export type Reach =
  | { kind: 'stopped' }
  | { kind: 'connecting' }
  | { kind: 'online'; expiresAt: number | undefined }
  | { kind: 'unreachable'; since: number | undefined; retryAt: number | undefined }
  | { kind: 'blocked'; until: number | undefined }
  | { kind: 'refused' }
  | { kind: 'unregistered' };

export function reachOf(status: AppStatus): Reach {
  const r = status.registration;
  if (!status.running || !r) return { kind: 'stopped' };
  if (r.state === 'blocked') return { kind: 'blocked', until: r.retryAt };
  if (r.state === 'refused') return { kind: 'refused' };
  if (r.unreachableSince !== undefined || r.state === 'unreachable') return { kind: 'unreachable', since: r.unreachableSince, retryAt: r.retryAt };
  if (r.state === 'registering') return { kind: 'connecting' };
  if (r.state === 'registered') return { kind: 'online', expiresAt: r.expiresAt };
  return { kind: 'unregistered' };
}

/** Registration failed or the server is silent: the user may want to retry or change the server. */
export const reachIsProblem = (reach: Reach): reach is Extract<Reach, { kind: 'unreachable' | 'blocked' | 'refused' | 'stopped' }> =>
  reach.kind === 'unreachable' || reach.kind === 'blocked' || reach.kind === 'refused' || reach.kind === 'stopped';
