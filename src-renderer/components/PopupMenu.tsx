// A menu button and its menu (WAI-ARIA menu button): the first item takes the focus, arrow keys,
// Home and End move, Escape closes it (and nothing under it) and gives the focus back, Tab and a
// click elsewhere close it.

import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { Icon, type IconName } from './Icons.tsx';

export interface MenuItem {
  icon: IconName;
  label: string;
  run: () => void;
  /** Shown in red: it deletes something. */
  danger?: boolean;
}

interface PopupMenuProps {
  label: string;
  /** What the button shows; its accessible name is `label`. */
  button: ReactNode;
  buttonClassName: string;
  items: MenuItem[];
  /** Which edge of the button the menu lines up with. */
  align: 'left' | 'right';
  testId?: string;
  /** For a caller that gives the focus back to the button later (after a dialog). */
  buttonRef?: RefObject<HTMLButtonElement | null>;
  menuWidth?: string;
}

export function PopupMenu({ label, button: content, buttonClassName, items, align, testId, buttonRef, menuWidth = 'w-52' }: PopupMenuProps) {
  const menuId = useId();
  const [open, setOpen] = useState(false);
  const ownButton = useRef<HTMLButtonElement>(null);
  const button = buttonRef ?? ownButton;
  const menu = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open, button]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  const onMenuKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const list = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = list.indexOf(document.activeElement as HTMLElement);
    const step = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[e.key];
    if (step !== undefined) {
      e.preventDefault();
      list[(step + list.length) % list.length]?.focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'Tab') setOpen(false);
  };

  return (
    <div className="relative">
      <button
        ref={button}
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        data-testid={testId}
        className={buttonClassName}
      >
        {content}
      </button>
      {open && (
        <div
          ref={menu}
          id={menuId}
          role="menu"
          aria-label={label}
          onKeyDown={onMenuKeyDown}
          className={`absolute top-full z-20 mt-1 ${menuWidth} rounded-xl border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900 ${align === 'right' ? 'right-0' : 'left-0'}`}
        >
          {items.map(({ icon, label: text, run, danger }) => (
            <button
              key={text}
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={() => {
                close();
                run();
              }}
              className={`flex w-full items-center gap-2.5 px-3 py-2 text-left text-sm hover:bg-zinc-100 focus:bg-zinc-100 focus:outline-none dark:hover:bg-zinc-800 dark:focus:bg-zinc-800 ${
                danger ? 'text-red-600 dark:text-red-400' : 'text-zinc-800 dark:text-zinc-200'
              }`}
            >
              <Icon name={icon} className="size-4" />
              {text}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
