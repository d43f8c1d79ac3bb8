// The page cannot open windows, navigate away, attach webviews or get permissions (but
// notifications); http(s) links it tries to open go to the system browser instead.
import type { HandlerDetails, WindowOpenHandlerResponse } from 'electron';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { guardWebContents, installSecurityGuards, type GuardedContents } from '../../src-main/app/guards.ts';
import { FakeLog, fakeEvent } from './fakes.ts';

type RequestHandler = Parameters<GuardedContents['session']['setPermissionRequestHandler']>[0];
type CheckHandler = Parameters<GuardedContents['session']['setPermissionCheckHandler']>[0];

class FakeContents extends EventEmitter {
  openHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | undefined;
  requestHandler: RequestHandler = null;
  checkHandler: CheckHandler = null;
  session = {
    setPermissionRequestHandler: (handler: RequestHandler) => void (this.requestHandler = handler),
    setPermissionCheckHandler: (handler: CheckHandler) => void (this.checkHandler = handler),
  };
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse) {
    this.openHandler = handler;
  }
  /** window.open(url) from the page: the action decides whether a window appears. */
  windowOpen(url: string) {
    return this.openHandler!({ url } as HandlerDetails).action;
  }
  /** A navigation or redirect: true when it goes ahead. */
  navigate(kind: 'will-navigate' | 'will-redirect', url: string) {
    const event = fakeEvent({ url });
    this.emit(kind, event);
    return !event.defaultPrevented;
  }
  permission(name: string) {
    let granted: boolean | undefined;
    this.requestHandler!(null as never, name as never, (answer) => (granted = answer), {} as never);
    return { requested: granted, checked: this.checkHandler!(null, name as never, 'app://chatp2p', {} as never) };
  }
}

function setup() {
  const contents = new FakeContents();
  const opened: string[] = [];
  const log = new FakeLog();
  guardWebContents(contents, { openExternal: async (url) => void opened.push(url), log });
  return { contents, opened, log };
}

describe('guardWebContents', () => {
  it('opens http(s) links in the system browser instead of a new window', () => {
    const { contents, opened } = setup();
    expect(contents.windowOpen('https://example.com/a?b=1')).toBe('deny');
    expect(contents.windowOpen('http://example.com')).toBe('deny');
    expect(opened).toEqual(['https://example.com/a?b=1', 'http://example.com/']);
  });

  it('opens nothing for javascript:, file: and other schemes, and says so in the log', () => {
    const { contents, opened, log } = setup();
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'app://chatp2p/x', 'smb://host/share', 'https://user:pw@example.com/']) {
      expect(contents.windowOpen(url)).toBe('deny');
    }
    expect(opened).toEqual([]);
    expect(log.lines).toContain('Refused to open javascript:alert(1)');
  });

  it('keeps the page on app://chatp2p: other navigations are stopped, http(s) ones opened outside', () => {
    const { contents, opened } = setup();
    expect(contents.navigate('will-navigate', 'app://chatp2p/index.html')).toBe(true);
    expect(contents.navigate('will-navigate', 'https://example.com/')).toBe(false);
    expect(contents.navigate('will-navigate', 'file:///etc/passwd')).toBe(false);
    expect(contents.navigate('will-navigate', 'app://evil/')).toBe(false);
    expect(opened).toEqual(['https://example.com/']);
  });

  it('stops redirects away from the app without opening them', () => {
    const { contents, opened } = setup();
    expect(contents.navigate('will-redirect', 'app://chatp2p/')).toBe(true);
    expect(contents.navigate('will-redirect', 'https://evil.example/')).toBe(false);
    expect(opened).toEqual([]);
  });

  it('refuses webviews', () => {
    const { contents } = setup();
    const event = fakeEvent();
    contents.emit('will-attach-webview', event);
    expect(event.defaultPrevented).toBe(true);
  });

  it('grants the notifications permission and nothing else', () => {
    const { contents } = setup();
    expect(contents.permission('notifications')).toEqual({ requested: true, checked: true });
    for (const name of ['media', 'geolocation', 'clipboard-read', 'openExternal', 'fullscreen', 'unknown']) {
      expect(contents.permission(name), name).toEqual({ requested: false, checked: false });
    }
  });
});

describe('installSecurityGuards', () => {
  it('guards every webContents as it is created', () => {
    const app = new EventEmitter();
    const opened: string[] = [];
    installSecurityGuards(app, { openExternal: async (url) => void opened.push(url), log: new FakeLog() });
    const first = new FakeContents();
    const second = new FakeContents();
    app.emit('web-contents-created', {}, first);
    app.emit('web-contents-created', {}, second);
    expect([first.windowOpen('https://a.example/'), second.navigate('will-navigate', 'https://b.example/')]).toEqual(['deny', false]);
    expect(opened).toEqual(['https://a.example/', 'https://b.example/']);
    expect(second.permission('media').requested).toBe(false);
  });
});
