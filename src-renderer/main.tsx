// Entry point. Electron's preload provides window.chat; a browser tab served by the web host
// builds the same ChatApi over the host's WebSocket.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { createWebChat, hostSocketUrl, type HostConnection } from './runtime/web-chat.ts';
import { ChatContext } from './state/chat-context.ts';
import '@fontsource/noto-emoji/400.css';
import './styles.css';

let connection: HostConnection | undefined;
let chat = window.chat;
if (!chat) {
  const web = createWebChat(hostSocketUrl(location));
  chat = web.chat;
  connection = web.connection;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ChatContext.Provider value={chat}>
      <App connection={connection} />
    </ChatContext.Provider>
  </StrictMode>,
);
