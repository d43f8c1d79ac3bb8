// The browser host on 127.0.0.1: what it serves, and who may reach the ChatApi behind it.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WireMessage } from '../../src-shared/chat-api.ts';
import { ChatService } from '../../src-main/service/chat-service.ts';
import { startWebHost, type WebHost } from '../../src-main/web/host.ts';
import { jsonFileSettingsStore } from '../../src-main/web/settings-file.ts';

let host: WebHost;
let service: ChatService;
let dir: string;
const hostLog: string[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-web-'));
  const renderer = join(dir, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>ChatP2P</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not for the browser');
  service = new ChatService({ store: jsonFileSettingsStore(join(dir, 'settings.json')), dataDir: dir, host: 'web', listenHost: '127.0.0.1', openExternal: () => undefined });
  hostLog.length = 0;
  host = await startWebHost({ service, rendererDir: renderer, log: (m) => hostLog.push(m) });
});

afterEach(async () => {
  await host.close();
  await service.stop();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

const token = () => new URL(host.url).searchParams.get('token')!;

/** Opens the API socket; resolves with it once open, or with the refusal's HTTP status. */
function connectApi(query: string, headers: Record<string, string> = { origin: `http://127.0.0.1:${host.port}` }): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
  });
}

function nextMessage(ws: WebSocket, match: (m: WireMessage) => boolean): Promise<WireMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as WireMessage;
      if (match(message)) {
        ws.off('message', onMessage);
        resolve(message);
      }
    };
    ws.on('message', onMessage);
  });
}

describe('web host: files', () => {
  it('prints a 127.0.0.1 address with a long random token', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
  });

  it('serves the UI with a strict CSP that only lets it talk to its own WebSocket', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>ChatP2P</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src ws://127.0.0.1:${host.port} ws://localhost:${host.port}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const script = await get('/assets/app.js');
    expect([script.status, script.headers['content-type'], script.body]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1)']);
  });

  it('serves nothing outside the UI folder, to other host names, or to other methods', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2F..%2Fsecret.txt', '/assets/../../secret.txt', '/%00', '/missing.js', '/assets']) {
      expect((await get(path)).status, path).toBe(404);
    }
    expect((await get('/', { host: `evil.example:${host.port}` })).status).toBe(421);
    expect((await get('/', {}, 'POST')).status).toBe(405);
  });
});

describe('web host: the ChatApi socket', () => {
  it('answers commands and forwards events to a page with the token', async () => {
    const ws = (await connectApi(`?token=${token()}`)) as WebSocket;
    ws.send(JSON.stringify({ id: 7, command: 'getSnapshot', args: [] }));
    const reply = await nextMessage(ws, (m) => 'id' in m && m.id === 7);
    expect(reply).toMatchObject({ id: 7, ok: true, value: { host: 'web', status: { running: false } } });

    const event = nextMessage(ws, (m) => 'event' in m && m.event === 'settings');
    ws.send(JSON.stringify({ id: 8, command: 'updateSettings', args: [{ theme: 'dark' }] }));
    expect(await event).toMatchObject({ event: 'settings', payload: { theme: 'dark' } });
    ws.close();
  });

  it('refuses a missing or wrong token, another origin, another host name and another path', async () => {
    expect(await connectApi('')).toBe(403);
    expect(await connectApi(`?token=${token().slice(1)}x`)).toBe(403);
    expect(await connectApi(`?token=${token()}`, { origin: 'https://evil.example' })).toBe(403);
    expect(await connectApi(`?token=${token()}`, { host: `evil.example:${host.port}` })).toBe(403);
    expect(hostLog).toEqual([
      '[WebHost] Refused a WebSocket: wrong token',
      '[WebHost] Refused a WebSocket: wrong token',
      '[WebHost] Refused a WebSocket: foreign origin',
      '[WebHost] Refused a WebSocket: unknown host',
    ]);
  });

  it('logs and ignores what is not a request, answers a bad command with an error, and keeps serving', async () => {
    const ws = (await connectApi(`?token=${token()}`)) as WebSocket;
    ws.send('not json');
    ws.send(JSON.stringify({ id: 'x', command: 'getSnapshot', args: [] }));
    ws.send(Buffer.from([1, 2, 3]));
    ws.send(JSON.stringify({ id: 1, command: 'shutdown', args: [] }));
    expect(await nextMessage(ws, (m) => 'id' in m && m.id === 1)).toEqual({ id: 1, ok: false, error: { code: 'invalid-request', detail: 'unknown command' } });
    ws.send(JSON.stringify({ id: 2, command: 'getSnapshot', args: [] }));
    expect(await nextMessage(ws, (m) => 'id' in m && m.id === 2)).toMatchObject({ ok: true });
    expect(hostLog.filter((l) => l.includes('not a ChatApi request'))).toHaveLength(3);
    ws.close();
  });

  it('a tab that drops its connection no longer counts as looking at its chat', async () => {
    const ws = (await connectApi(`?token=${token()}`)) as WebSocket;
    ws.send(JSON.stringify({ id: 1, command: 'setActiveConversation', args: ['dm:bob@CIC'] }));
    await nextMessage(ws, (m) => 'id' in m && m.id === 1);
    expect(service.activeConversation).toBe('dm:bob@CIC');
    ws.terminate();
    await new Promise<void>((resolve) => {
      const poll = () => (service.activeConversation === undefined ? resolve() : setTimeout(poll, 10));
      poll();
    });
  });

  it('closes an oversized frame without harming other tabs', async () => {
    const big = (await connectApi(`?token=${token()}`)) as WebSocket;
    const other = (await connectApi(`?token=${token()}`)) as WebSocket;
    const closed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
    big.send(JSON.stringify({ id: 1, command: 'sendDirect', args: ['a@b', 'x'.repeat(300 * 1024)] }));
    expect(await closed).toBe(1009);
    other.send(JSON.stringify({ id: 3, command: 'getSnapshot', args: [] }));
    expect(await nextMessage(other, (m) => 'id' in m && m.id === 3)).toMatchObject({ ok: true });
    other.close();
  });
});
