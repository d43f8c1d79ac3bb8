// The sandboxed preload: the renderer gets exactly the ChatApi as `window.chat`, and nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { createChatBridge } from './chat-bridge.ts';

contextBridge.exposeInMainWorld('chat', createChatBridge(ipcRenderer));
