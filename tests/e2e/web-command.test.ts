// `npm run web` as a user runs it: a child process that prints its address; the page it serves
// is the app, and a wrong token gets no API.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startEngine, waitFor, type TestEngine } from '../helpers/peers.ts';
import { ROOT, buildRenderer, useSuite } from './harness.ts';

let bob: TestEngine;
let child: ChildProcess | undefined;
let url = '';
const stderr: string[] = [];

/** Starts `npm run web` (its script, run by this Node) and resolves with the URL it prints. */
function startWeb(args: string[]): Promise<string> {
  child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src-main/web/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child!.stdout! });
    lines.on('line', (line) => {
      const match = /^ChatP2P web UI: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
    child!.once('exit', (code) => reject(new Error(`npm run web exited with ${code}: ${stderr.join('')}`)));
  });
}

const suite = useSuite({
  host: false,
  before: async ({ rendezvous, dataDir }) => {
    // The command serves dist/renderer: build it from the current sources.
    await buildRenderer(join(ROOT, 'dist/renderer'));
    bob = await startEngine(rendezvous.port, 'bob', 'CIC');
    url = await startWeb(['--name', 'carol', '--namespace', 'CIC', '--port', '0', '--listen-host', '127.0.0.1', '--rendezvous', `127.0.0.1:${rendezvous.port}`, '--http-port', '0', '--data-dir', dataDir]);
  },
  after: async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  },
});

describe('npm run web', () => {
  test('prints a URL whose page is the app, connected to the network', async () => {
    const page = await suite.open({}, url);
    await page.getByTestId('own-peer-id').filter({ hasText: 'You are carol@CIC' }).waitFor();
    await page.getByTestId('peer-bob@CIC').getByText('connected').waitFor();
    await waitFor('bob to connect to carol', () => bob.peer('carol@CIC')?.state === 'open');
    bob.engine.publish('*', 'hello from bob');
    await page.getByTestId('channel-*').filter({ hasText: 'bob@CIC: hello from bob' }).waitFor();
  });

  test('a wrong token is refused: no API, and the page says it is disconnected', async () => {
    const wrong = url.replace(/token=[^&]+/, 'token=wrong');
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(wrong.replace(/^http:\/\/([^/]+)\/\?/, 'ws://$1/api?'));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('the API accepted a wrong token')));
      ws.once('error', () => undefined);
    });
    expect(status).toBe(403);

    const page = await suite.open({}, wrong);
    await page.getByTestId('disconnected').filter({ hasText: 'Disconnected from the ChatP2P host' }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('own-peer-id').count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Welcome to ChatP2P' }).count()).toBe(0);
  });
});
