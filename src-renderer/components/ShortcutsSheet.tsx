// The keyboard shortcuts: listed in Settings, and as a sheet over everything with Ctrl+/.

import { useId } from 'react';
import { useStrings } from '../i18n.ts';
import { Icon } from './Icons.tsx';
import { ModalDialog } from './ModalDialog.tsx';

/** Every shortcut, over everything. */
export function ShortcutsSheet({ onClose }: { onClose: () => void }) {
  const t = useStrings();
  const headingId = useId();
  return (
    <ModalDialog headingId={headingId} onClose={onClose}>
      <div className="mb-4 flex items-center justify-between">
        <h2 id={headingId} className="text-base font-semibold">
          {t.shortcuts}
        </h2>
        <button type="button" autoFocus onClick={onClose} aria-label={t.close} className="rounded-lg p-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800">
          <Icon name="close" className="size-4" />
        </button>
      </div>
      <ShortcutList />
    </ModalDialog>
  );
}

export function ShortcutList() {
  const t = useStrings();
  const mod = /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';
  const rows: [string[], string][] = [
    [[mod, 'K'], t.shortcutFilter],
    [[mod, 'F'], t.shortcutSearch],
    [[mod, 'E'], t.shortcutComposer],
    [['Alt', '↑ / ↓'], t.shortcutPrevNext],
    [['Enter'], t.shortcutSend],
    [['Shift', 'Enter'], t.shortcutNewline],
    [['Esc'], t.shortcutEscape],
    [[mod, '/'], t.shortcutSheet],
  ];
  return (
    <dl className="grid grid-cols-[auto_1fr] items-center gap-x-6 gap-y-2 text-sm">
      {rows.map(([keys, action]) => (
        <div key={action} className="contents">
          <dt className="flex gap-1">
            {keys.map((k) => (
              <kbd key={k} className="rounded-md border border-zinc-300 bg-zinc-50 px-1.5 py-0.5 font-mono text-xs shadow-[0_1px_0] shadow-zinc-300 dark:border-zinc-700 dark:bg-zinc-900 dark:shadow-zinc-700">
                {k}
              </kbd>
            ))}
          </dt>
          <dd className="text-zinc-600 dark:text-zinc-400">{action}</dd>
        </div>
      ))}
    </dl>
  );
}
