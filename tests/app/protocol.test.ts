// The app:// handler with real Request/Response objects and real files in a temp folder.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, createAppProtocolHandler, isAppUrl } from '../../src-main/app/protocol.ts';

let dir: string;
let handle: (request: Request) => Promise<Response>;
const get = (url: string, init?: RequestInit) => handle(new Request(url, init));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'chatp2p-protocol-'));
  const root = path.join(dir, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>ChatP2P</title>');
  await writeFile(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  await writeFile(path.join(root, 'assets', 'index-abc.css'), 'body{}');
  await writeFile(path.join(root, 'assets', 'logo.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  await writeFile(path.join(dir, 'secret.txt'), 'TOP SECRET');
  handle = createAppProtocolHandler(root);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('app:// protocol handler', () => {
  it('serves index.html for the root, with the strict CSP', async () => {
    for (const url of ['app://chatp2p/', 'app://chatp2p/index.html']) {
      const response = await get(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(await response.text()).toContain('<title>ChatP2P</title>');
    }
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('serves assets with their content types', async () => {
    const cases = [
      ['app://chatp2p/assets/index-abc.js', 'text/javascript; charset=utf-8'],
      ['app://chatp2p/assets/index-abc.css', 'text/css; charset=utf-8'],
      ['app://chatp2p/assets/logo.png', 'image/png'],
    ];
    for (const [url, type] of cases) {
      const response = await get(url!);
      expect([response.status, response.headers.get('content-type')]).toEqual([200, type]);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(await (await get('app://chatp2p/assets/index-abc.js')).text()).toBe('console.log(1)');
  });

  it('refuses to leave the renderer folder, however the path is spelt', async () => {
    for (const url of [
      'app://chatp2p/../secret.txt',
      'app://chatp2p/%2e%2e/secret.txt',
      'app://chatp2p/..%2fsecret.txt',
      'app://chatp2p/assets/..%2f..%2fsecret.txt',
      'app://chatp2p/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://chatp2p/..%5csecret.txt',
      `app://chatp2p/${encodeURIComponent(path.join(dir, 'secret.txt'))}`,
    ]) {
      const response = await get(url);
      expect(response.status, url).toBe(404);
      expect(await response.text()).not.toContain('SECRET');
    }
  });

  it('answers 404 for other hosts, missing files, folders and broken escapes, without falling back to index.html', async () => {
    for (const url of ['app://evil/index.html', 'app://chatp2p/missing.js', 'app://chatp2p/settings', 'app://chatp2p/assets', 'app://chatp2p/%E0%A4%A', 'app://chatp2p/a%00.html']) {
      expect((await get(url)).status, url).toBe(404);
    }
  });

  it('serves reads only', async () => {
    expect((await get('app://chatp2p/index.html', { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await get('app://chatp2p/index.html', { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
  });
});

describe('isAppUrl', () => {
  it('accepts only the app scheme and host', () => {
    expect(isAppUrl('app://chatp2p/index.html#x')).toBe(true);
    for (const url of ['app://chatp2p.evil/', 'app://evil/', 'https://chatp2p/', 'file:///app/chatp2p', 'app:chatp2p', 'not a url']) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });
});
