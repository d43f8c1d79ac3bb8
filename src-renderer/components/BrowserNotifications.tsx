// Settings, browser host only: the browser asks for permission to notify only after a click,
// so the permission is asked for here, and its answer shown.

import { useState } from 'react';
import { useStrings } from '../i18n.ts';

export function BrowserNotifications() {
  const t = useStrings();
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState(supported ? Notification.permission : 'denied');
  if (permission === 'granted') return <p className="text-sm text-zinc-600 dark:text-zinc-400">{t.browserNotificationsOn}</p>;
  if (permission === 'denied') return <p className="text-sm text-amber-800 dark:text-amber-400">{t.browserNotificationsBlocked}</p>;
  return (
    <button
      type="button"
      onClick={() => void Notification.requestPermission().then(setPermission)}
      className="rounded-lg border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
    >
      {t.browserNotifications}
    </button>
  );
}
