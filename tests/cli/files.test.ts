// The terminal client's file commands, as a user runs them: `send`, `accept`, `decline`,
// `transfers`, the one-line offer and arrival notices, the same facts as --json events, and
// leaving: the client waits for the transfers under way, unless told to leave them for next time.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { CuttingProxy } from '../helpers/hostile.ts';
import { nextEvent, startEngine, stopEngines, waitFor } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
let tmp: string;
const children: CliRun[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'chatp2p-cli-files-'));
});
const proxies: CuttingProxy[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  for (const p of proxies.splice(0)) await p.close();
  await stopEngines();
  await rdv.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The client as `npm run cli` starts it from `tmp` (INIT_CWD), its profile in tmp/<name>. */
function startCli(name: string, extra: string[] = []): CliRun {
  const args = ['--name', name, '--namespace', 'CIC', '--port', '0', '--rendezvous', `127.0.0.1:${rdv.port}`, '--listen-host', '127.0.0.1', '--data-dir', join(tmp, name), ...extra];
  const run = runCli(args, { INIT_CWD: tmp });
  children.push(run);
  return run;
}

const line = (run: { stdout: string[] }, pattern: RegExp) => run.stdout.find((l) => pattern.test(l));

it('prints an offer as one line; accept <id> [dir] brings it in verified; transfers lists it', async () => {
  const bob = startCli('bob');
  const alice = await startEngine(rdv.port, 'alice', 'CIC');
  await waitFor('connected', () => alice.peer('bob@CIC')?.state === 'open', 15_000);
  const source = join(tmp, 'notas da aula.txt');
  writeFileSync(source, 'fotossíntese\n'.repeat(1000));
  const offer = await alice.engine.sendFile('bob@CIC', source);
  await waitFor('the offer line', () => line(bob, /^\(file offer /) !== undefined);
  expect(line(bob, /^\(file offer /)).toBe(`(file offer ${offer.id} from alice@CIC: notas da aula.txt, 14 kB; accept ${offer.id} or decline ${offer.id})`);

  bob.write(`accept ${offer.id} downloads\n`);
  await nextEvent(alice.engine, 'transfer', (t) => t.id === offer.id && t.state === 'complete', 15_000);
  const path = join(tmp, 'downloads', 'notas da aula.txt');
  await waitFor('the arrival line', () => line(bob, /^\(file .* received/) !== undefined);
  expect(line(bob, /^\(file .* received/)).toBe(`(file notas da aula.txt received from alice@CIC, verified: ${path})`);
  expect(readFileSync(path, 'utf8')).toBe('fotossíntese\n'.repeat(1000));

  bob.write('transfers\naccept nope\nquit\n');
  expect(await bob.code).toBe(0);
  expect(line(bob, /^\S+ {2}from alice@CIC/)).toBe(`${offer.id}  from alice@CIC  notas da aula.txt  14 kB  complete  100%  ${path}`);
  expect(bob.stderr).toContain('Error: only an offer still waiting for an answer can be accepted');
}, 30_000);

it('send <peer_id> <path> offers a file (a path relative to where the client was started); --json gives the facts as events; a decline is shown', async () => {
  const alice = startCli('alice', ['--json']);
  const bob = await startEngine(rdv.port, 'bob', 'CIC', { files: { downloadDir: join(tmp, 'bob-downloads') } });
  await waitFor('connected', () => bob.peer('alice@CIC')?.state === 'open', 15_000);
  writeFileSync(join(tmp, 'a.pdf'), '%PDF-1.4 tiny');
  writeFileSync(join(tmp, 'b.png'), 'not really a png');

  const first = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered' && t.name === 'a.pdf', 15_000);
  alice.write('send bob@CIC a.pdf\n');
  const offered = await first;
  expect(offered).toMatchObject({ size: 13, mediaType: 'application/pdf', peerId: 'alice@CIC' });
  bob.engine.acceptFile(offered.id);
  await nextEvent(bob.engine, 'transfer', (t) => t.id === offered.id && t.state === 'complete', 15_000);

  const second = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered' && t.name === 'b.png', 15_000);
  alice.write('send bob@CIC b.png\nsend bob@CIC missing.txt\n');
  bob.engine.declineFile((await second).id);
  await waitFor('the decline event', () => alice.stdout.some((l) => l.includes('"event":"transfer"') && l.includes('"state":"declined"')), 15_000);
  alice.write('transfers\nquit\n');
  expect(await alice.code).toBe(0);

  const events = alice.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
  const transfers = events.filter((e) => e.event === 'transfer');
  expect(transfers.filter((e) => e.id === offered.id).map((e) => e.state)).toEqual(expect.arrayContaining(['offered', 'transferring', 'complete']));
  expect(transfers.find((e) => e.state === 'declined')).toMatchObject({ name: 'b.png', mediaType: 'image/png', error: 'declined by bob@CIC' });
  expect(events.find((e) => e.event === 'error')).toMatchObject({ command: 'send', message: expect.stringMatching(/^cannot read .*missing\.txt: ENOENT$/) });
  const listed = events.find((e) => e.event === 'result' && e.command === 'transfers') as { transfers: { name: string; state: string }[] };
  expect(listed.transfers.map((t) => [t.name, t.state])).toEqual([['a.pdf', 'complete'], ['b.png', 'declined']]);
}, 30_000);

/**
 * alice (the client) sends a file to bob, which listens on 127.0.0.2 behind a proxy that can
 * stall the network: the transfer is under way, and held there, when the client is told to leave.
 */
async function transferUnderWay(): Promise<{ alice: CliRun; bob: Awaited<ReturnType<typeof startEngine>>; proxy: CuttingProxy; sha256: string; id: string }> {
  const bob = await startEngine(rdv.port, 'bob', 'R', { files: { downloadDir: join(tmp, 'bob-downloads') }, listenHost: '127.0.0.2', peerConnection: { policy: 'namespace' } });
  const port = bob.engine.status().listen.port;
  const proxy = new CuttingProxy(port, '127.0.0.2');
  proxies.push(proxy);
  await proxy.listen(port);
  const alice = startCli('alice');
  await waitFor('connected through the proxy', () => bob.peer('alice@CIC')?.state === 'open', 15_000);
  const data = randomBytes(8 * 2 ** 20);
  writeFileSync(join(tmp, 'aula.mp4'), data);
  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered', 15_000);
  alice.write('send bob@R aula.mp4\n');
  const { id } = await offered;
  bob.engine.acceptFile(id);
  await waitFor('some bytes arrived', () => (bob.engine.transfers()[0]?.offset ?? 0) > 0, 15_000);
  proxy.pause();
  return { alice, bob, proxy, sha256: createHash('sha256').update(data).digest('hex'), id };
}

const WAITING = '(waiting for 1 file transfer; type quit again or press Ctrl+C to leave it for next time)';

it('at the end of its input the client waits for the transfer under way, says so, and leaves once it arrives', async () => {
  const { alice, bob, proxy, sha256, id } = await transferUnderWay();
  alice.end();
  await waitFor('the waiting line', () => alice.stderr.includes(WAITING), 15_000);
  expect(bob.engine.transfers()[0]!.state).toBe('transferring');
  proxy.resume();
  expect(await alice.code).toBe(0);
  expect(bob.engine.transfers().find((t) => t.id === id)?.state).toBe('complete');
  expect(createHash('sha256').update(readFileSync(join(tmp, 'bob-downloads', 'aula.mp4'))).digest('hex')).toBe(sha256);
  expect(alice.stdout.filter((l) => l.includes('go on next time'))).toEqual([]);
}, 40_000);

it('quit, and quit again while it waits, leaves the transfer for next time, cleanly', async () => {
  const { alice, bob, proxy } = await transferUnderWay();
  alice.write('quit\n');
  await waitFor('the waiting line', () => alice.stderr.includes(WAITING), 15_000);
  alice.write('transfers\nquit\n');
  expect(await alice.code).toBe(0);
  expect(alice.stdout).toContain('(1 file transfer goes on next time: aula.mp4 to bob@R)');
  expect(line(alice, /^\S+ {2}to bob@R {2}aula\.mp4 {2}8\.4 MB {2}transferring/)).toBeDefined();
  proxy.resume();
  expect(bob.engine.transfers()[0]!.state).toBe('transferring');
}, 40_000);
