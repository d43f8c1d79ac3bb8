import type { ChatPeerState } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';

const DOT: Record<ChatPeerState, string> = {
  open: 'bg-emerald-500',
  connecting: 'bg-amber-400 animate-pulse',
  stale: 'bg-orange-500',
  closed: 'bg-zinc-400',
  failed: 'bg-red-500',
  offline: 'bg-zinc-400',
};

/**
 * A coloured dot and, unless `dotOnly`, the state in words (colour is never the only cue). A bare
 * dot is silent: whoever shows one says the state in words where a screen reader reads it.
 */
export function PeerStateDot({ state, dotOnly = false }: { state: ChatPeerState; dotOnly?: boolean }) {
  const t = useStrings();
  return (
    <span className="inline-flex items-center gap-1.5" data-state={state}>
      <span className={`size-2.5 shrink-0 rounded-full ${DOT[state]}`} aria-hidden="true" title={dotOnly ? t.peerState[state] : undefined} />
      {!dotOnly && <span>{t.peerState[state]}</span>}
    </span>
  );
}
