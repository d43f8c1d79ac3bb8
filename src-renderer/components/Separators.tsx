// Lines between messages: the day they were sent or received, and where the unread ones start.

import { useLocale, useStrings } from '../i18n.ts';
import { dayLabel } from '../state/format.ts';

function Separator({ children, tone, testId }: { children: string; tone: 'day' | 'unread'; testId: string }) {
  const line = tone === 'unread' ? 'bg-sky-500/60' : 'bg-zinc-300 dark:bg-zinc-700';
  return (
    <div role="separator" aria-label={children} data-testid={testId} className="flex items-center gap-3 pt-4 pb-1">
      <span className={`h-px flex-1 ${line}`} />
      <span className={`text-xs font-medium ${tone === 'unread' ? 'text-sky-700 dark:text-sky-300' : 'text-zinc-600 dark:text-zinc-400'}`}>{children}</span>
      <span className={`h-px flex-1 ${line}`} />
    </div>
  );
}

export function DaySeparator({ at, now }: { at: number; now: number }) {
  const t = useStrings();
  const locale = useLocale();
  return (
    <Separator tone="day" testId="day-separator">
      {dayLabel(locale, at, now, t)}
    </Separator>
  );
}

export function UnreadSeparator() {
  const t = useStrings();
  return (
    <Separator tone="unread" testId="unread-separator">
      {t.newMessages}
    </Separator>
  );
}
