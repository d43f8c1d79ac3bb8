// What a message that notifies does in the window: in the browser host, a Web Notification (once
// the user allowed them with a click in Settings), which opens its chat when clicked; in both
// hosts, the optional sound. Electron's notifications come from main (src-main/app/notifications.ts)
// under the same policy, `notifies`.

import { useEffect, useRef } from 'react';
import { conversationKind, notifies, senderTitle, type ChatApi, type ConversationId, type Snapshot } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';

let audio: AudioContext | undefined;

/** A short soft tone, made here: no sound file to ship or to fail to load. */
function chime(): void {
  audio ??= new AudioContext();
  const start = audio.currentTime;
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = 880;
  gain.gain.setValueAtTime(0.12, start);
  gain.gain.exponentialRampToValueAtTime(0.001, start + 0.35);
  tone.connect(gain).connect(audio.destination);
  tone.start(start);
  tone.stop(start + 0.35);
}

export function useMessageAlerts(chat: ChatApi, snapshot: Snapshot, visibleId: ConversationId | undefined, onOpen: (id: ConversationId) => void): void {
  const t = useStrings();
  // The listener stays; what it decides with is always the latest.
  const latest = useRef({ snapshot, visibleId, onOpen, t });
  latest.current = { snapshot, visibleId, onOpen, t };

  useEffect(
    () =>
      chat.on('message', (message) => {
        const { snapshot: s, visibleId: reading, onOpen: openChat, t: words } = latest.current;
        if (message.direction !== 'in' || (reading === message.conversationId && document.hasFocus())) return;
        if (!notifies(message.conversationId, s.settings, Date.now())) return;
        if (s.settings.sound) chime();
        if (s.host !== 'web' || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
        // The unverified one in the user's language: it must never read as the peer's own.
        const title = conversationKind(message.conversationId) === 'unverified' ? words.secure.unverifiedTitle(message.from) : senderTitle(message);
        const shown = new Notification(title, { body: message.text, tag: message.conversationId });
        shown.onclick = () => {
          window.focus();
          openChat(message.conversationId);
          shown.close();
        };
      }),
    [chat],
  );
}
