// Where we stand with the rendezvous server, in plain words: one line for the status bar and the
// peer panel (the same words in both), and a banner with Retry and "Change server" when it fails.
// Protocol terms (TTL, the address the server saw) stay in the tooltip and the details.

import type { AppStatus } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings, type Strings } from '../i18n.ts';
import { clockTime, countdown } from '../state/format.ts';
import { reachIsProblem, reachOf, type Reach } from '../state/reach.ts';
import { Details, ErrorText } from './ErrorText.tsx';

const DOT: Record<Reach['kind'], string> = {
  stopped: 'bg-zinc-400',
  connecting: 'bg-amber-400 animate-pulse',
  online: 'bg-emerald-500',
  unreachable: 'bg-red-500',
  blocked: 'bg-red-500',
  refused: 'bg-red-500',
  unregistered: 'bg-zinc-400',
};

/** "Server unreachable since 10:32 · retrying in 12 s". */
function reachWords(t: Strings, locale: 'en' | 'pt-BR', reach: Reach, now: number): string {
  const parts = [t.reach[reach.kind]];
  if (reach.kind === 'unreachable' && reach.since !== undefined) parts[0] += ` ${t.since(clockTime(locale, reach.since))}`;
  if (reach.kind === 'blocked' && reach.until !== undefined) parts[0] += ` ${t.until(clockTime(locale, reach.until))}`;
  if (reach.kind === 'unreachable' && reach.retryAt !== undefined && reach.retryAt > now) parts.push(t.retryingIn(Math.ceil((reach.retryAt - now) / 1000)));
  return parts.join(' · ');
}

/** The protocol side, for whoever wants it: server, the address it saw, TTL left, its last words. */
function advanced(t: Strings, status: AppStatus, now: number): string[] {
  const r = status.registration;
  if (!r) return [];
  return [
    t.server(r.server),
    r.ip && t.registeredAs(r.ip),
    r.state === 'registered' && r.expiresAt !== undefined && t.ttlLeft(countdown(r.expiresAt - now)),
    r.error,
  ].filter((x): x is string => typeof x === 'string' && x !== '');
}

export function ReachLine({ status, now, testId }: { status: AppStatus; now: number; testId?: string }) {
  const t = useStrings();
  const locale = useLocale();
  const reach = reachOf(status);
  return (
    <span className="flex min-w-0 items-center gap-1.5" data-testid={testId} data-reach={reach.kind} title={advanced(t, status, now).join('\n') || undefined}>
      <span aria-hidden="true" className={`size-2 shrink-0 rounded-full ${DOT[reach.kind]}`} />
      <span className="truncate">{reachWords(t, locale, reach, now)}</span>
    </span>
  );
}

interface ReachBannerProps {
  status: AppStatus;
  now: number;
  onRetry: () => void;
  onChangeServer: () => void;
}

/** Shown above the chats while registration fails or the engine is not running. */
export function ReachBanner({ status, now, onRetry, onChangeServer }: ReachBannerProps) {
  const t = useStrings();
  const locale = useLocale();
  const reach = reachOf(status);
  if (!reachIsProblem(reach)) return null;
  const raw = status.registration?.error;
  return (
    <div role="region" aria-label={t.registrationAdvanced} data-testid="reach-banner" className="flex flex-wrap items-start gap-x-4 gap-y-2 border-b border-red-200 bg-red-50 px-4 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/60 dark:text-red-200">
      <div className="min-w-0 flex-1 basis-64" aria-live="polite">
        {status.error ? (
          <ErrorText error={status.error} />
        ) : (
          <>
            <p className="font-medium">{reachWords(t, locale, reach, now)}</p>
            <p className="text-xs">{t.reachHelp[reach.kind]}</p>
            {raw && <Details text={raw} />}
          </>
        )}
      </div>
      <div className="flex shrink-0 gap-2">
        <button type="button" onClick={onRetry} className="rounded-lg bg-red-700 px-3 py-1 text-xs font-semibold text-white hover:bg-red-800 dark:bg-red-600 dark:hover:bg-red-500">
          {t.retry}
        </button>
        <button type="button" onClick={onChangeServer} className="rounded-lg border border-red-300 px-3 py-1 text-xs font-semibold hover:bg-red-100 dark:border-red-800 dark:hover:bg-red-900">
          {t.changeServer}
        </button>
      </div>
    </div>
  );
}
