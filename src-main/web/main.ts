// `npm run web -- <peer flags> [--http-port N]`: the desktop UI in a browser, on the same engine.
// Prints the address (with its token) on a line of its own; Ctrl+C leaves the network cleanly.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RENDEZVOUS_PRESETS, type Profile } from '../../src-shared/chat-api.ts';
import { formatLogRecord } from '../engine/log.ts';
import { USAGE as CLI_USAGE, UsageError, parseCliArgs } from '../cli/options.ts';
import { ChatService } from '../service/chat-service.ts';
import { startWebHost } from './host.ts';
import { jsonFileSettingsStore } from './settings-file.ts';

const USAGE = `Usage: npm run web -- [--name NAME --namespace NS --port PORT] [options] [--http-port N]

Serves the ChatP2P UI on http://127.0.0.1:N (default: a free port) with a random token.
Without --name and --namespace the browser shows the profile form (or the saved profile).
  --http-port N          port of the web UI on 127.0.0.1 (0 picks a free one)

Peer options, as for the terminal client, except --data-dir:
${CLI_USAGE.split('\n')
  .slice(2)
  .filter((line) => line !== '' && !/^ {2}--json|^ {2}--data-dir|app's folder for NAME/.test(line))
  .join('\n')}
  --data-dir DIR         folder for web-settings.json and each profile's history under profiles/
                         (default: the user's ChatP2P data folder, shared with the desktop app)
`;

const RENDERER_DIR = join(import.meta.dirname, '../../dist/renderer');

async function main(argv: string[]): Promise<number> {
  let httpPort = 0;
  const peerArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = arg.startsWith('--http-port=') ? arg.slice('--http-port='.length) : undefined;
    if (arg !== '--http-port' && inline === undefined) {
      peerArgs.push(arg);
      continue;
    }
    const text = inline ?? argv[++i] ?? '';
    httpPort = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(httpPort >= 0 && httpPort <= 65535)) throw new UsageError('--http-port must be a port from 0 to 65535');
  }
  const options = parseCliArgs(peerArgs, process.cwd());
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const hasName = !options.missing.includes('name');
  if (hasName !== !options.missing.includes('namespace')) throw new UsageError('give both --name and --namespace, or neither to use the form in the browser');
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new UsageError('the UI is not built: run `npm run build` (npm run web does it for you)');

  const { config } = options;
  const service = new ChatService({
    store: jsonFileSettingsStore(join(options.dataDir, 'web-settings.json')),
    dataDir: options.dataDir,
    host: 'web',
    listenHost: config.listenHost,
    // The browser opens links itself; a link the host was asked to open is only logged.
    openExternal: (url) => {
      process.stderr.write(`Open in your browser: ${url}\n`);
    },
  });
  service.on('log', (line) => process.stderr.write(formatLogRecord({ ...line, time: new Date(line.time) }) + '\n'));

  if (hasName) {
    const unb = RENDEZVOUS_PRESETS.unb;
    const isUnb = config.rendezvous.host === unb.host && config.rendezvous.port === unb.port;
    const profile: Profile = {
      name: config.name,
      namespace: config.namespace,
      port: config.port,
      ttl: config.ttl,
      rendezvous: { preset: isUnb ? 'unb' : 'custom', host: config.rendezvous.host, port: config.rendezvous.port },
    };
    const reply = await service.dispatch('startProfile', [profile]);
    if (!reply.ok) {
      process.stderr.write(`Error: ${reply.error.detail ?? reply.error.code}\n`);
      return 1;
    }
  } else {
    await service.start();
  }

  const host = await startWebHost({ service, rendererDir: RENDERER_DIR, httpPort, log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`ChatP2P web UI: ${host.url}\n`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await service.stop();
  await host.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(err instanceof UsageError ? `Error: ${err.message}\nRun with --help for the options.\n` : `${err.stack}\n`);
    process.exit(2);
  },
);
