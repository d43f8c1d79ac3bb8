// Starts that go wrong: a taken port is shown in the window and the app still quits cleanly; a
// start that cannot go on says why in a dialog, in the user's language, and ends the process
// without keeping the single-instance lock.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { launchApp } from './harness.ts';
import { seedProfile, useDesktopSuite } from './suite.ts';

const suite = useDesktopSuite();

async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** A settings file the app cannot read: a folder where the file should be. */
async function unreadableSettings(configHome: string): Promise<void> {
  const file = join(configHome, 'ChatP2P', 'desktop-settings.json');
  await rm(file, { force: true });
  await mkdir(file, { recursive: true });
}

describe('start-up failures', () => {
  test('a port that is taken shows in the window, and quitting still works', async () => {
    const busy = await occupiedPort();
    try {
      const app = await launchApp({ configHome: await seedProfile('ivan', suite.rendezvous.port, { port: busy.port }) });
      const page = await app.window();
      await page.getByText(`Port ${busy.port} is already used by another program.`).first().waitFor();
      await app.call('clickTrayItem', 'Quit ChatP2P');
      expect(await app.exited()).toBe(0);
    } finally {
      busy.server.close();
    }
  });

  test('a start that cannot go on shows a dialog, exits with an error and frees the lock', async () => {
    const configHome = await seedProfile('jane', suite.rendezvous.port);
    await unreadableSettings(configHome);
    const failed = await launchApp({ configHome });
    expect(await failed.exited()).toBe(1);
    expect(failed.output()).toContain('[dialog] ChatP2P could not start: ChatP2P could not use its files in');
    expect(failed.output()).toContain('Details: EISDIR');
    expect(failed.output()).not.toContain('A JavaScript error occurred');

    // The next launch is the first instance again: it opens its window.
    await rm(join(configHome, 'ChatP2P', 'desktop-settings.json'), { recursive: true });
    await writeFile(join(configHome, 'ChatP2P', 'desktop-settings.json'), '{}');
    const again = await launchApp({ configHome });
    const page = await again.window();
    await page.getByRole('heading', { name: 'Welcome to ChatP2P' }).waitFor();
  });

  test('the dialog speaks Portuguese on a pt-BR system', async () => {
    const configHome = await seedProfile('kaio', suite.rendezvous.port);
    await unreadableSettings(configHome);
    const failed = await launchApp({ configHome, env: { LANG: 'pt_BR.UTF-8' } });
    expect(await failed.exited()).toBe(1);
    expect(failed.output()).toContain('[dialog] O ChatP2P não pôde iniciar: O ChatP2P não conseguiu usar seus arquivos em');
    expect(failed.output()).toContain('Detalhes: EISDIR');
  });
});
