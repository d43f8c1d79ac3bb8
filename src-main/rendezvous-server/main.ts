// `npm run rendezvous -- [--host H] [--port P] [--db FILE|:memory:] [--redis URL [--redis-prefix P]]
//   [--max-requests N] [--log-level L]`

import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { userDataDir } from '../engine/data-dir.ts';
import { Logger, parseLogLevel, streamSink } from '../engine/log.ts';
import { BackendUnavailableError } from './backend.ts';
import { RegistryError } from './registry.ts';
import { startRendezvousServer } from './server.ts';

const USAGE = `Usage: npm run rendezvous -- [options]

  --host H            interface to listen on (default 0.0.0.0)
  --port P            TCP port (default 8080)
  --db FILE           where registrations are kept across restarts
                      (default ${join(userDataDir(), 'rendezvous.db')}; ':memory:' keeps none)
  --redis URL         keep registrations and the rate limit in Redis instead,
                      redis://HOST:PORT/DB, shared by every instance that uses it
  --redis-prefix P    put P before every Redis key (default chatp2p:)
  --max-requests N    connections one IP may open per 60 s before a 60 s block (default 50)
  --log-level L       DEBUG, INFO, WARN or ERROR (default INFO)
  --help              show this text`;

function fail(message: string, code = 2): never {
  process.stderr.write(`rendezvous: ${message}\n`);
  process.exit(code);
}

function redisUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'redis:' && url?.protocol !== 'rediss:') fail(`--redis must look like redis://HOST:PORT/DB, got '${text}'`);
  return text;
}

/** The registry's keys carry a hash tag of their own ({registry}); braces in the prefix would move it. */
function redisPrefix(text: string): string {
  if (/[{}\s]/.test(text)) fail(`--redis-prefix may not hold braces or spaces, got '${text}'`);
  return text;
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    fail(`${flag} must be a whole number from ${min} to ${max}, got '${text}'`);
  }
  return Number(text);
}

let args;
try {
  args = parseArgs({
    options: {
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '8080' },
      db: { type: 'string' },
      redis: { type: 'string' },
      'redis-prefix': { type: 'string' },
      'max-requests': { type: 'string', default: '50' },
      'log-level': { type: 'string', default: 'INFO' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  fail(`${(err as Error).message}\n\n${USAGE}`);
}
if (args.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

const port = wholeNumber('--port', args.port, 0, 65535);
const maxRequests = wholeNumber('--max-requests', args['max-requests'], 1, 1_000_000_000);
const level = parseLogLevel(args['log-level']) ?? fail(`--log-level must be DEBUG, INFO, WARN or ERROR, got '${args['log-level']}'`);
const redis = args.redis === undefined ? undefined : { url: redisUrl(args.redis), prefix: redisPrefix(args['redis-prefix'] ?? 'chatp2p:') };
if (redis === undefined && args['redis-prefix'] !== undefined) fail('--redis-prefix needs --redis');
if (redis !== undefined && args.db !== undefined) fail('--db and --redis exclude each other: registrations are kept in one place');
// `npm run` starts us in the package folder; a relative --db means the folder the user was in.
const db = args.db === ':memory:' ? args.db : resolve(process.env.INIT_CWD ?? '.', args.db ?? join(userDataDir(), 'rendezvous.db'));
if (redis === undefined && db !== ':memory:') mkdirSync(dirname(db), { recursive: true });

try {
  const server = await startRendezvousServer({
    host: args.host,
    port,
    db,
    redis,
    maxRequests,
    logger: new Logger({ level, sink: streamSink(process.stderr) }),
  });
  process.stdout.write(
    `Rendezvous server listening on ${server.host}:${server.port} ` +
      `(registrations: ${redis ? `in Redis at ${redis.url}, keys ${redis.prefix}*` : `${db === ':memory:' ? 'in memory only' : db}, ${server.registrations} live`})\n`,
  );
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof RegistryError || e instanceof BackendUnavailableError) fail(e.message, 1);
  if (e.code === 'EADDRINUSE') fail(`port ${port} on ${args.host} is already in use`, 1);
  if (e.code === 'EADDRNOTAVAIL') fail(`${args.host} is not an address of this machine`, 1);
  if (e.code === 'EACCES') fail(`not allowed to listen on ${args.host}:${port}`, 1);
  fail(e.message, 1);
}
