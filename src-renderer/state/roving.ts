// A list that is one Tab stop, its items reached with the arrow keys (WAI-ARIA "roving
// tabindex"): items carry data-roving, a row's second control (Reconnect) data-roving-aside.

import type { FocusEvent, KeyboardEvent } from 'react';

const ITEM = '[data-roving]';

function focusItem(items: HTMLElement[], index: number): void {
  const target = items[Math.max(0, Math.min(items.length - 1, index))];
  if (!target) return;
  for (const item of items) item.tabIndex = item === target ? 0 : -1;
  target.focus();
}

export function onRovingKeyDown(e: KeyboardEvent<HTMLElement>): void {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>(ITEM)];
  const focused = document.activeElement as HTMLElement | null;
  const row = focused?.closest('li');
  const at = items.findIndex((item) => item === focused || (row && row.contains(item)));
  if (at === -1) return;
  const go = (index: number) => {
    e.preventDefault();
    focusItem(items, index);
  };
  if (e.key === 'ArrowDown') go(at + 1);
  else if (e.key === 'ArrowUp') go(at - 1);
  else if (e.key === 'Home') go(0);
  else if (e.key === 'End') go(items.length - 1);
  else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
    const aside = row?.querySelector<HTMLElement>('[data-roving-aside]');
    const target = e.key === 'ArrowRight' ? aside : items[at];
    if (target && target !== focused) {
      e.preventDefault();
      target.focus();
    }
  }
}

/** An item focused another way (a click, a shortcut) becomes the list's Tab stop. */
export function onRovingFocus(e: FocusEvent<HTMLElement>): void {
  const target = e.target as HTMLElement;
  if (!target.matches(ITEM)) return;
  for (const item of e.currentTarget.querySelectorAll<HTMLElement>(ITEM)) item.tabIndex = item === target ? 0 : -1;
}
