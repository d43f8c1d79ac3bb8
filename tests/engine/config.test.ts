// config.json as the course's Python clients write it (sections, times in seconds) and as the
// simplest ones write it (flat keys), read from a real file; then merged over the defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configProblems,
  defaultConfig,
  mergeConfig,
  readConfigFile,
  type EngineConfig,
} from '../../src-main/engine/config.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `content` (an object as JSON, or raw text) to a config file; returns its path. */
function configFile(content: unknown, name = 'config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** Reads `content` as a config file and merges it over the defaults. */
function load(content: unknown): EngineConfig {
  return mergeConfig(defaultConfig({ name: 'alice', namespace: 'CIC', port: 0 }), readConfigFile(configFile(content)));
}

/** The ConfigError that reading `content` throws. */
function readError(content: unknown): ConfigError {
  const path = configFile(content);
  try {
    readConfigFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(content)} to be refused`);
}

describe('readConfigFile', () => {
  it("reads the Python clients' sectioned layout, converting seconds to milliseconds", () => {
    const config = load({
      name: 'bob',
      namespace: 'UnB',
      rendezvous: { host: 'localhost', port: 9090, discover_interval: 30 },
      network: { ack_timeout: 0.5, listen_port: 7070 },
      keepalive: { ping_interval: 15 },
      peer_connection: { retry_attempts: 4, max_reconnect_attempts: 8 },
      logging: { level: 'DEBUG' },
    });
    expect(config).toMatchObject({
      name: 'bob',
      namespace: 'UnB',
      port: 7070,
      rendezvous: { host: 'localhost', port: 9090, discoverIntervalMs: 30_000 },
      network: { ackTimeoutMs: 500 },
      keepalive: { pingIntervalMs: 15_000 },
      peerConnection: { retryAttempts: 4, maxReconnectAttempts: 8 },
      logging: { level: 'DEBUG' },
    });
  });

  it('reads the flat layout of the simplest clients', () => {
    const config = load({ name: 'carol', namespace: 'CIC', rendezvous_host: '127.0.0.1', rendezvous_port: 8081, listen_port: 6000 });
    expect(config).toMatchObject({ name: 'carol', namespace: 'CIC', port: 6000, rendezvous: { host: '127.0.0.1', port: 8081 } });
  });

  it('keeps fractions of a second', () => {
    const config = load({ rendezvous: { discover_interval: 0.2, timeout: 1.25 }, keepalive: { ping_interval: 0.75 } });
    expect(config.rendezvous.discoverIntervalMs).toBe(200);
    expect(config.rendezvous.timeoutMs).toBe(1250);
    expect(config.keepalive.pingIntervalMs).toBe(750);
  });

  it('leaves every setting the file does not mention at its default, and ignores unknown keys', () => {
    const defaults = defaultConfig({ name: 'alice', namespace: 'CIC', port: 0 });
    expect(load({})).toEqual(defaults);
    expect(load({ color: 'blue', rendezvous: { protocol: 'tcp' }, network: null, ui: { theme: 'dark' } })).toEqual(defaults);
    const onlyAck = load({ network: { ack_timeout: 2 } });
    expect(onlyAck).toEqual({ ...defaults, network: { ...defaults.network, ackTimeoutMs: 2000 } });
  });

  it('treats null as absent', () => {
    expect(load({ name: null, rendezvous: { host: null, port: null } })).toEqual(defaultConfig({ name: 'alice', namespace: 'CIC', port: 0 }));
  });

  it('accepts the log level names of Python and of this project, in either case', () => {
    expect(load({ logging: { level: 'WARNING' } }).logging.level).toBe('WARN');
    expect(load({ logging: { level: 'WARN' } }).logging.level).toBe('WARN');
    expect(load({ logging: { level: 'debug' } }).logging.level).toBe('DEBUG');
    expect(load({ logging: { level: 'Info' } }).logging.level).toBe('INFO');
    expect(load({ logging: { level: 'ERROR' } }).logging.level).toBe('ERROR');
  });

  it("accepts Python's WARNING in any case, like every other level", () => {
    expect(load({ logging: { level: 'warning' } }).logging.level).toBe('WARN');
    expect(load({ logging: { level: 'Warning' } }).logging.level).toBe('WARN');
  });

  it('refuses values of the wrong type, naming the key and the file', () => {
    const cases: [unknown, string][] = [
      [{ rendezvous: { port: '8080' } }, 'rendezvous.port'],
      [{ rendezvous: { port: 70000 } }, 'rendezvous.port'],
      [{ rendezvous: { host: 8080 } }, 'rendezvous.host'],
      [{ rendezvous_port: 0 }, 'rendezvous_port'],
      [{ listen_port: 'any' }, 'listen_port'],
      [{ name: 42 }, 'name'],
      [{ network: { ack_timeout: '5' } }, 'network.ack_timeout'],
      [{ network: { ack_timeout: 0 } }, 'network.ack_timeout'],
      [{ network: { ack_timeout: -1 } }, 'network.ack_timeout'],
      [{ keepalive: { ping_interval: [30] } }, 'keepalive.ping_interval'],
      [{ peer_connection: { retry_attempts: 1.5 } }, 'peer_connection.retry_attempts'],
      [{ peer_connection: { max_reconnect_attempts: -1 } }, 'peer_connection.max_reconnect_attempts'],
      [{ logging: { level: 'LOUD' } }, 'logging.level'],
      [{ logging: { level: 10 } }, 'logging.level'],
    ];
    for (const [content, key] of cases) {
      const error = readError(content);
      expect(error.message, JSON.stringify(content)).toContain(key);
      expect(error.message).toContain(join(dir, 'config.json'));
    }
  });

  it('refuses a file that is missing, not JSON, or not a JSON object, naming the path', () => {
    const missing = join(dir, 'nope.json');
    expect(() => readConfigFile(missing)).toThrow(ConfigError);
    expect(() => readConfigFile(missing)).toThrow(missing);

    for (const text of ['{"name": "alice",}', '', 'name = alice', '["alice"]', '42', 'null']) {
      const path = configFile(text, 'broken.json');
      expect(() => readConfigFile(path), text).toThrow(ConfigError);
      expect(() => readConfigFile(path), text).toThrow(path);
    }
  });

  it('refuses a folder given as the config file, naming the path', () => {
    expect(() => readConfigFile(dir)).toThrow(ConfigError);
    expect(() => readConfigFile(dir)).toThrow(dir);
  });
});

describe('mergeConfig', () => {
  const defaults = defaultConfig({ name: 'alice', namespace: 'CIC', port: 0 });

  it('applies the values given and leaves undefined ones at the base value', () => {
    const merged = mergeConfig(defaults, {
      name: 'bob',
      namespace: undefined,
      port: 5000,
      rendezvous: { host: 'localhost', port: undefined },
      network: {},
    });
    expect(merged).toEqual({ ...defaults, name: 'bob', port: 5000, rendezvous: { ...defaults.rendezvous, host: 'localhost' } });
  });

  it('lets later layers win, as command-line flags win over the file', () => {
    const file = { rendezvous: { host: 'from-file', port: 9000 }, logging: { level: 'DEBUG' as const } };
    const flags = { rendezvous: { host: 'from-flags' } };
    const merged = mergeConfig(defaults, file, flags);
    expect(merged.rendezvous).toMatchObject({ host: 'from-flags', port: 9000 });
    expect(merged.logging.level).toBe('DEBUG');
  });

  it('does not change the base config', () => {
    const before = structuredClone(defaults);
    mergeConfig(defaults, { name: 'bob', rendezvous: { host: 'x' }, keepalive: { pingIntervalMs: 1 } });
    expect(defaults).toEqual(before);
  });
});

describe('configProblems', () => {
  const valid = defaultConfig({ name: 'alice', namespace: 'CIC', port: 0 });
  const problems = (changes: Partial<EngineConfig>) => configProblems({ ...valid, ...changes });

  it('finds nothing wrong with a valid config, including names of 64 characters of any script', () => {
    expect(configProblems(valid)).toEqual([]);
    expect(problems({ name: 'x'.repeat(64), namespace: 'n'.repeat(64), port: 65535 })).toEqual([]);
    expect(problems({ name: '😀'.repeat(64), namespace: 'Ação' })).toEqual([]);
  });

  it('reports a bad name or namespace, saying which', () => {
    for (const name of ['', 'x'.repeat(65), 'ali ce', 'alice@CIC', 'a\tb', 'a\u0000b']) {
      const found = problems({ name });
      expect(found, JSON.stringify(name)).toHaveLength(1);
      expect(found[0]).toMatch(/^name/);
    }
    for (const namespace of ['', 'n'.repeat(65), 'C IC', 'C@IC']) {
      const found = problems({ namespace });
      expect(found, JSON.stringify(namespace)).toHaveLength(1);
      expect(found[0]).toMatch(/^namespace/);
    }
  });

  it('reports a bad listening port, and allows 0 (pick a free one)', () => {
    expect(problems({ port: 0 })).toEqual([]);
    for (const port of [-1, 65536, 1.5, NaN]) {
      const found = problems({ port });
      expect(found, String(port)).toHaveLength(1);
      expect(found[0]).toMatch(/port/);
    }
  });

  it('reports a bad rendezvous port, saying it is the rendezvous one', () => {
    for (const port of [0, 65536, 80.5]) {
      const found = problems({ rendezvous: { ...valid.rendezvous, port } });
      expect(found, String(port)).toHaveLength(1);
      expect(found[0]).toMatch(/^rendezvous port/);
    }
  });

  it('reports a TTL outside 1..86400', () => {
    expect(problems({ ttl: 0 })).toEqual([expect.stringMatching(/ttl/)]);
    expect(problems({ ttl: 86401 })).toEqual([expect.stringMatching(/ttl/)]);
    expect(problems({ ttl: 86400 })).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(problems({ name: '', namespace: '', port: -1, ttl: 0 })).toHaveLength(4);
  });
});
