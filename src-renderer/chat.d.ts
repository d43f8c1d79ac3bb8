// Electron's preload puts the ChatApi here; in a browser tab main.tsx builds one over a WebSocket.
import type { ChatApi } from '../src-shared/chat-api.ts';

declare global {
  interface Window {
    chat?: ChatApi;
  }
}
