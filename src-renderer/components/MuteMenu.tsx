// The chat header's bell: mute this chat's notifications for an hour, eight hours or until
// unmuted, and unmute it. The bell is struck through while the chat is muted.

import { asChatError, isMuted, type ChatError, type ConversationId, type MuteDuration, type Settings } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings } from '../i18n.ts';
import { useChat } from '../state/chat-context.ts';
import { clockTime, sameDay, shortWhen } from '../state/format.ts';
import { Icon } from './Icons.tsx';
import { PopupMenu, type MenuItem } from './PopupMenu.tsx';

interface MuteMenuProps {
  conversationId: ConversationId;
  muted: Settings['muted'];
  now: number;
  onError: (error: ChatError) => void;
}

export function MuteMenu({ conversationId, muted, now, onError }: MuteMenuProps) {
  const t = useStrings();
  const locale = useLocale();
  const chat = useChat();
  const on = isMuted(muted, conversationId, now);
  const until = muted[conversationId];
  const mute = (duration: MuteDuration) => () => void chat.mute(conversationId, duration).catch((e: unknown) => onError(asChatError(e)));
  const items: MenuItem[] = [
    { icon: 'bellOff', label: t.muteFor1h, run: mute('1h') },
    { icon: 'bellOff', label: t.muteFor8h, run: mute('8h') },
    { icon: 'bellOff', label: t.muteAlways, run: mute('always') },
    ...(on ? [{ icon: 'bell', label: t.unmute, run: mute('off') } as const] : []),
  ];
  const when = (at: number) => (sameDay(at, now) ? clockTime(locale, at) : `${shortWhen(locale, at, now)} ${clockTime(locale, at)}`);
  const state = !on || until === undefined ? t.mute : until === 'always' ? t.mutedAlways : t.mutedUntil(when(until));
  return (
    <PopupMenu
      label={state}
      button={<Icon name={on ? 'bellOff' : 'bell'} />}
      buttonClassName={`rounded-lg p-2 hover:bg-zinc-100 dark:hover:bg-zinc-800 ${on ? 'text-amber-700 dark:text-amber-400' : 'text-zinc-600 dark:text-zinc-300'}`}
      items={items}
      align="right"
      testId="mute-menu"
    />
  );
}
