import { useStrings } from '../i18n.ts';
import { Icon } from './Icons.tsx';

/** The browser host's WebSocket dropped; the runtime is retrying. */
export function DisconnectedBanner() {
  const t = useStrings();
  return (
    <div role="alert" data-testid="disconnected" className="flex shrink-0 items-center justify-center gap-2 bg-amber-100 px-4 py-1.5 text-sm text-amber-900 dark:bg-amber-900/60 dark:text-amber-100">
      <Icon name="alert" className="size-4" />
      {t.disconnected}
    </div>
  );
}
