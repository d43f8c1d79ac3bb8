import { useStrings } from '../i18n.ts';
import { Icon } from './Icons.tsx';

/** How many of our DMs to this peer wait in the outbox; nothing when none does. */
export function QueuedBadge({ count }: { count: number }) {
  const t = useStrings();
  if (count === 0) return null;
  return (
    <span
      role="img"
      data-testid="queued-badge"
      aria-label={t.queuedBadge(count)}
      title={t.queuedBadge(count)}
      className="inline-flex h-5 shrink-0 items-center gap-0.5 rounded-full bg-amber-100 px-1.5 text-[11px] font-semibold text-amber-800 dark:bg-amber-900/50 dark:text-amber-200"
    >
      <Icon name="clock" className="size-3" />
      {count}
    </span>
  );
}
