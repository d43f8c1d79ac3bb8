// Command-line flags and the config they produce: defaults, then the config file, then flags.
// Missing identity values are asked for on a terminal and are a clear error otherwise.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  DEFAULT_TTL,
  configProblems,
  defaultConfig,
  mergeConfig,
  readConfigFile,
  validateIdentityField,
  validatePort,
  type ConfigOverrides,
  type EngineConfig,
} from '../engine/config.ts';
import { userDataDir } from '../engine/data-dir.ts';
import { parseLogLevel } from '../engine/log.ts';
import { historyPath } from '../service/history-path.ts';

export const USAGE = `Usage: npm run cli -- --name NAME --namespace NS --port PORT [options]

  --name NAME            your name (1-64 characters); you are NAME@NS
  --namespace NS         your namespace, the room you join (1-64 characters)
  --port PORT            TCP port peers dial you on (0 picks a free one)
  --rendezvous HOST:PORT rendezvous server (default pyp2p.mfcaetano.cc:8080)
  --ttl S                seconds the server keeps your record (default ${DEFAULT_TTL})
  --listen-host H        address to listen on (default 0.0.0.0)
  --config FILE          JSON config in the Python clients' layout (default DIR/config.json with
                         --data-dir, else config.json in the user's ChatP2P data folder)
  --data-dir DIR         this profile's folder, holding its history.sqlite (default: the desktop
                         app's folder for NAME@NS, so both share one history)
  --log-level LEVEL      DEBUG, INFO, WARN or ERROR
  --log-file FILE        also append log lines to FILE
  --json                 every engine event as one JSON object per line on stdout
  --help                 this text
`;

export interface CliOptions {
  /** Identity values still missing, in the order a prompt asks for them. */
  missing: ('namespace' | 'name' | 'port' | 'ttl')[];
  config: EngineConfig;
  json: boolean;
  /** Where config.json is looked for: --data-dir, else the user's ChatP2P data folder. */
  dataDir: string;
  /** --data-dir as given: the terminal client keeps this profile's history there. */
  profileDir: string | undefined;
  help: boolean;
}

export class UsageError extends Error {}

/** Reads argv (without node and script); `cwd` is where relative paths start. */
export function parseCliArgs(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        port: { type: 'string' },
        rendezvous: { type: 'string' },
        ttl: { type: 'string' },
        'listen-host': { type: 'string' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'log-file': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const profileDir = values['data-dir'] ? resolve(cwd, values['data-dir']) : undefined;
  const dataDir = profileDir ?? userDataDir(env);
  const configPath = values.config ? resolve(cwd, values.config) : join(dataDir, 'config.json');
  let file: ConfigOverrides = {};
  try {
    if (values.config || existsSync(configPath)) file = readConfigFile(configPath);
  } catch (err) {
    throw new UsageError(err instanceof ConfigError ? err.message : String(err));
  }

  const flags: ConfigOverrides = { rendezvous: {}, logging: {} };
  if (values.name !== undefined) flags.name = values.name;
  if (values.namespace !== undefined) flags.namespace = values.namespace;
  if (values.port !== undefined) flags.port = parsePortFlag('--port', values.port, true);
  if (values.ttl !== undefined) flags.ttl = parseTtl(values.ttl);
  if (values['listen-host'] !== undefined) flags.listenHost = values['listen-host'];
  if (values.rendezvous !== undefined) {
    const match = /^(.+):(\d+)$/.exec(values.rendezvous);
    if (!match) throw new UsageError('--rendezvous must be HOST:PORT');
    flags.rendezvous = { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: parsePortFlag('--rendezvous', match[2]!, false) };
  }
  if (values['log-level'] !== undefined) {
    const level = parseLogLevel(values['log-level']);
    if (!level) throw new UsageError('--log-level must be DEBUG, INFO, WARN or ERROR');
    flags.logging = { level };
  }
  if (values['log-file'] !== undefined) flags.logging = { ...flags.logging, file: resolve(cwd, values['log-file']) };

  const merged = { ...file, ...flags };
  const missing: CliOptions['missing'] = [];
  if (merged.namespace === undefined) missing.push('namespace');
  if (merged.name === undefined) missing.push('name');
  if (merged.port === undefined) missing.push('port');
  if (missing.length > 0 && merged.ttl === undefined) missing.push('ttl');
  const config = mergeConfig(defaultConfig({ name: '', namespace: '', port: 0 }), file, flags);
  if (missing.length === 0) {
    const problems = configProblems(config);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
  } else {
    for (const field of ['name', 'namespace'] as const) {
      const problem = merged[field] === undefined ? undefined : validateIdentityField(field, merged[field]);
      if (problem) throw new UsageError(problem);
    }
  }
  return { missing, config, json: values.json, dataDir, profileDir, help: values.help };
}

/** The profile's history file: in --data-dir, else where the desktop app keeps this peer_id's. */
export function historyFile(options: CliOptions, peerId: string): string {
  return options.profileDir ? join(options.profileDir, 'history.sqlite') : historyPath(options.dataDir, peerId);
}

/** Checks one prompted answer; returns the problem, or undefined when it is fine. */
export function checkAnswer(field: CliOptions['missing'][number], answer: string): string | undefined {
  if (field === 'name' || field === 'namespace') return validateIdentityField(field, answer);
  if (field === 'port') return validatePort(Number(answer)) && `${validatePort(Number(answer))}`;
  return /^\d+$/.test(answer) && Number(answer) >= 1 && Number(answer) <= 86400 ? undefined : 'TTL must be 1 to 86400 seconds';
}

function parsePortFlag(flag: string, text: string, allowZero: boolean): number {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  const problem = validatePort(port, allowZero);
  if (problem) throw new UsageError(`${flag}: ${problem}`);
  return port;
}

function parseTtl(text: string): number {
  const ttl = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(ttl >= 1 && ttl <= 86400)) throw new UsageError('--ttl must be 1 to 86400 seconds');
  return ttl;
}
