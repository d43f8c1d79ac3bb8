// The terminal client's file commands, as a user runs them: `send`, `accept`, `decline`,
// `transfers`, the one-line offer and arrival notices, and the same facts as --json events.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { nextEvent, startEngine, stopEngines, waitFor } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
let tmp: string;
const children: CliRun[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'chatp2p-cli-files-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
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
