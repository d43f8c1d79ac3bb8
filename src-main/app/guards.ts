// Every webContents the app creates is locked down (DESIGN.md, "security posture"): no new
// windows, no navigation away from app://chatp2p, no webviews, no permissions but notifications.
// http(s) links the page tries to open go to the system browser, after allowedExternalUrl.
import type { HandlerDetails, Session, WindowOpenHandlerResponse } from 'electron';
import { allowedExternalUrl } from '../../src-shared/chat-api.ts';
import type { ModuleLogger } from '../engine/log.ts';
import { isAppUrl } from './protocol.ts';

interface GuardEvent {
  url: string;
  preventDefault(): void;
}

/** The part of WebContents the guards touch (Electron's `on` is one overload per event). */
export interface GuardedContents {
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
  on(event: 'will-navigate', listener: (event: GuardEvent) => void): unknown;
  on(event: 'will-redirect', listener: (event: GuardEvent) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>;
}

export interface GuardDeps {
  openExternal: (url: string) => Promise<void>;
  log: Pick<ModuleLogger, 'warn'>;
}

const ALLOWED_PERMISSION = 'notifications';

function openOutside(url: string, { openExternal, log }: GuardDeps): void {
  const safe = allowedExternalUrl(url);
  if (safe === undefined) {
    log.warn(`Refused to open ${url.slice(0, 200)}`);
    return;
  }
  openExternal(safe).catch((error: unknown) => log.warn(`Could not open ${safe}: ${String(error)}`));
}

export function guardWebContents(contents: GuardedContents, deps: GuardDeps): void {
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url, deps);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    openOutside(event.url, deps);
  });
  contents.on('will-redirect', (event) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    deps.log.warn(`Refused a redirect to ${event.url.slice(0, 200)}`);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.session.setPermissionRequestHandler((_contents, permission, callback) => {
    if (permission !== ALLOWED_PERMISSION) deps.log.warn(`Denied the ${permission} permission`);
    callback(permission === ALLOWED_PERMISSION);
  });
  contents.session.setPermissionCheckHandler((_contents, permission) => permission === ALLOWED_PERMISSION);
}

export interface ContentsCreator {
  on(event: 'web-contents-created', listener: (event: unknown, contents: GuardedContents) => void): unknown;
}

/** Guards each webContents as it is created, before it loads anything. */
export function installSecurityGuards(app: ContentsCreator, deps: GuardDeps): void {
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, deps));
}
