// IPC between the window and the service: one `handle` per command, answered only for frames
// showing app://chatp2p, and every service event forwarded on the one event channel.
import type { IpcMain, WebContents } from 'electron';
import { COMMANDS, EVENT_CHANNEL, commandChannel, type ChatError, type CommandReply } from '../../src-shared/chat-api.ts';
import type { ModuleLogger } from '../engine/log.ts';
import type { ChatService } from '../service/chat-service.ts';
import { isAppUrl } from './protocol.ts';

export const REFUSED_SENDER: ChatError = { code: 'refused-sender', detail: 'the request did not come from the ChatP2P window' };

export function registerCommandHandlers(
  ipcMain: Pick<IpcMain, 'handle'>,
  service: Pick<ChatService, 'dispatch'>,
  log: Pick<ModuleLogger, 'warn'>,
): void {
  for (const command of COMMANDS) {
    ipcMain.handle(commandChannel(command), (event, ...args: unknown[]): Promise<CommandReply> | CommandReply => {
      const url = event.senderFrame?.url;
      if (url === undefined || !isAppUrl(url)) {
        log.warn(`Refused ${command} from ${url ?? 'a closed frame'}`);
        return { ok: false, error: REFUSED_SENDER };
      }
      return service.dispatch(command, args);
    });
  }
}

export type WindowContents = Pick<WebContents, 'send' | 'isDestroyed'>;

/** Sends every service event to whatever window is current; returns the unsubscribe function. */
export function forwardEvents(service: Pick<ChatService, 'onEvent'>, target: () => WindowContents | undefined): () => void {
  return service.onEvent((envelope) => {
    const contents = target();
    if (contents !== undefined && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, envelope);
  });
}
