// Window-wide shortcuts: Ctrl/Cmd+K the filter, Ctrl/Cmd+F message search, Ctrl/Cmd+E the
// composer, Alt+Up/Down the previous/next chat, Ctrl/Cmd+/ the shortcuts sheet, Escape the
// topmost layer. The settings view and the sheet list them.

import { useEffect, useRef } from 'react';

export interface ShortcutActions {
  focusFilter: () => void;
  focusSearch: () => void;
  focusComposer: () => void;
  step: (delta: 1 | -1) => void;
  showShortcuts: () => void;
  /** Closes the topmost layer; false when there was none. */
  escape: () => boolean;
}

export function useShortcuts(actions: ShortcutActions): void {
  // The latest actions, without re-binding the listener on every render.
  const latest = useRef(actions);
  useEffect(() => {
    latest.current = actions;
  });
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const run = (action: () => void) => {
        e.preventDefault();
        action();
      };
      if (mod && !e.altKey && !e.shiftKey && key === 'k') run(latest.current.focusFilter);
      else if (mod && !e.altKey && !e.shiftKey && key === 'f') run(latest.current.focusSearch);
      else if (mod && !e.altKey && !e.shiftKey && key === 'e') run(latest.current.focusComposer);
      else if (e.altKey && !mod && e.key === 'ArrowUp') run(() => latest.current.step(-1));
      else if (e.altKey && !mod && e.key === 'ArrowDown') run(() => latest.current.step(1));
      else if (mod && !e.altKey && e.key === '/') run(latest.current.showShortcuts);
      // A menu or a field that used Escape itself, or a modal dialog (which closes by itself), comes first.
      else if (e.key === 'Escape' && !e.defaultPrevented && !document.querySelector('dialog[open]') && latest.current.escape()) e.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
