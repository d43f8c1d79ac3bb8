// One line at the bottom: where we stand with the server, connections, average RTT, and the
// Peers and Logs toggles. TTL and the server's address are in the reach line's tooltip.

import type { AppStatus } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { Icon, type IconName } from './Icons.tsx';
import { ReachLine } from './Reach.tsx';

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
  return (
    <footer className="flex min-h-8 shrink-0 flex-wrap items-center gap-x-4 gap-y-0.5 border-t border-zinc-200 bg-zinc-50 px-3 py-1 text-xs text-zinc-700 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300">
      <ReachLine status={status} now={now} testId="registration" />
      {status.localServer && <span className="hidden lg:inline">{t.localServer(`${status.localServer.host}:${status.localServer.port}`)}</span>}
      {status.running && <span data-testid="open-connections" className="whitespace-nowrap">{t.openConnections(status.openConnections)}</span>}
      {status.avgRttMs !== undefined && <span className="hidden whitespace-nowrap tabular-nums md:inline">{t.avgRtt(status.avgRttMs)}</span>}
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
