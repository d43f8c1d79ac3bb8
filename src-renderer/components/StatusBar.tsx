// One line at the bottom: registration and TTL left, server, connections, average RTT.

import type { AppStatus } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { countdown } from '../state/format.ts';
import { Icon, type IconName } from './Icons.tsx';

const REGISTRATION_DOT = {
  unregistered: 'bg-zinc-400',
  registering: 'bg-amber-400 animate-pulse',
  registered: 'bg-emerald-500',
  unreachable: 'bg-red-500',
  blocked: 'bg-red-500',
  refused: 'bg-red-500',
} as const;

interface StatusBarProps {
  status: AppStatus;
  now: number;
  logsOpen: boolean;
  onToggleLogs: () => void;
  peersOpen: boolean;
  onTogglePeers: () => void;
}

export function StatusBar({ status, now, logsOpen, onToggleLogs, peersOpen, onTogglePeers }: StatusBarProps) {
  const t = useStrings();
  const registration = status.registration;
  const expiresAt = registration?.state === 'registered' ? registration.expiresAt : undefined;
  const problem = status.error ?? registration?.error;
  return (
    <footer className="flex h-8 shrink-0 items-center gap-4 border-t border-zinc-200 bg-zinc-50 px-3 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-400">
      {registration ? (
        <span className="flex items-center gap-1.5" data-testid="registration">
          <span aria-hidden="true" className={`size-2 rounded-full ${REGISTRATION_DOT[registration.state]}`} />
          {t.registration[registration.state]}
          {expiresAt !== undefined && <span className="tabular-nums">· {t.ttlLeft(countdown(expiresAt - now))}</span>}
        </span>
      ) : (
        <span>{t.notRunning}</span>
      )}
      {registration && <span className="hidden sm:inline">{t.server(registration.server)}</span>}
      {status.localServer && <span className="hidden md:inline">{t.localServer(`${status.localServer.host}:${status.localServer.port}`)}</span>}
      {status.running && <span data-testid="open-connections">{t.openConnections(status.openConnections)}</span>}
      {status.avgRttMs !== undefined && <span className="tabular-nums">{t.avgRtt(status.avgRttMs)}</span>}
      {problem && (
        <span className="flex min-w-0 items-center gap-1 text-red-600 dark:text-red-400" title={problem}>
          <Icon name="alert" className="size-3.5 shrink-0" />
          <span className="truncate">{problem}</span>
        </span>
      )}
      <span className="ml-auto flex gap-1">
        <BarToggle label={t.peers} icon="users" pressed={peersOpen} onClick={onTogglePeers} />
        <BarToggle label={t.logs} icon="logs" pressed={logsOpen} onClick={onToggleLogs} />
      </span>
    </footer>
  );
}

function BarToggle({ label, icon, pressed, onClick }: { label: string; icon: IconName; pressed: boolean; onClick: () => void }) {
  return (
    <button
      type="button"
      onClick={onClick}
      aria-pressed={pressed}
      className={`flex items-center gap-1 rounded px-2 py-0.5 hover:bg-zinc-200 dark:hover:bg-zinc-800 ${pressed ? 'bg-zinc-200 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100' : ''}`}
    >
      <Icon name={icon} className="size-3.5" />
      {label}
    </button>
  );
}
