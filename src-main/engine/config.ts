// Engine settings. The file format keeps the sections and key names of the course's Python
// clients (`rendezvous.host`, `network.ack_timeout`, `keepalive.ping_interval`, ...; times in
// seconds), so one config.json serves both; command-line flags override it.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FilesConfig } from './extensions/file-transfers.ts';
import { parseLogLevel, type LogLevel } from './log.ts';

export type ConnectionPolicy = 'all' | 'namespace';

export interface EngineConfig {
  name: string;
  namespace: string;
  /** Port we listen on and register; 0 picks a free one. */
  port: number;
  listenHost: string;
  /** Seconds the rendezvous server keeps our record. */
  ttl: number;
  rendezvous: { host: string; port: number; discoverIntervalMs: number; timeoutMs: number; maxRequestsPerMinute: number };
  network: {
    ackTimeoutMs: number;
    handshakeTimeoutMs: number;
    byeTimeoutMs: number;
    pipelineWindow: number;
    maxStrikes: number;
    /** Inbound connections that have not said HELLO yet, from everyone; more are refused at accept. */
    maxPendingHandshakes: number;
    /** The same, from one remote IP, so that one host cannot take every handshake slot. */
    maxPendingPerIp: number;
    /**
     * Inbound connections (before and after HELLO) from one remote IP. Many honest peers share an
     * IP behind NAT or on one machine (PROTOCOL.md §2), so this is a ceiling, not a fairness rule.
     */
    maxConnectionsPerIp: number;
    /** Bytes waiting to reach one peer (socket buffer + our queue); over it, the peer is not reading and is dropped. */
    maxWriteQueueBytes: number;
    /** Our dials waiting for HELLO_OK at once; the rest of a long DISCOVER list waits its turn. */
    maxConcurrentDials: number;
  };
  keepalive: { pingIntervalMs: number; maxMissedPongs: number };
  peerConnection: {
    /** SEND retransmissions after an ACK timeout, before the message is failed. */
    retryAttempts: number;
    maxReconnectAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** Dial every discovered peer, or only our namespace and the peers we message. */
    policy: ConnectionPolicy;
  };
  logging: { level: LogLevel; file: string | undefined };
  /** File transfers (`chatp2p-files`). */
  files: FilesConfig;
}

/** The settings a user must choose; everything else has a default. */
export type Identity = Pick<EngineConfig, 'name' | 'namespace' | 'port'>;

export const DEFAULT_TTL = 7200;

export function defaultConfig(identity: Identity): EngineConfig {
  return {
    ...identity,
    listenHost: '0.0.0.0',
    ttl: DEFAULT_TTL,
    rendezvous: { host: 'pyp2p.mfcaetano.cc', port: 8080, discoverIntervalMs: 60_000, timeoutMs: 5_000, maxRequestsPerMinute: 10 },
    network: {
      ackTimeoutMs: 5_000,
      handshakeTimeoutMs: 5_000,
      byeTimeoutMs: 2_000,
      pipelineWindow: 64,
      maxStrikes: 3,
      // See docs/RELIABILITY.md for why these numbers.
      maxPendingHandshakes: 128,
      maxPendingPerIp: 64,
      maxConnectionsPerIp: 1024,
      maxWriteQueueBytes: 4 * 1024 * 1024,
      maxConcurrentDials: 32,
    },
    keepalive: { pingIntervalMs: 30_000, maxMissedPongs: 3 },
    peerConnection: { retryAttempts: 3, maxReconnectAttempts: 5, backoffBaseMs: 1_000, backoffMaxMs: 60_000, policy: 'all' },
    logging: { level: 'INFO', file: undefined },
    files: { downloadDir: join(homedir(), 'Downloads'), maxBytes: 16 * 2 ** 30, offerTtlMs: 60 * 60_000, autoAcceptBytes: 0 },
  };
}

export class ConfigError extends Error {}

/** Everything a config file may set; the rest of EngineConfig comes from defaults and flags. */
export interface ConfigOverrides {
  name?: string;
  namespace?: string;
  port?: number;
  listenHost?: string;
  ttl?: number;
  rendezvous?: Partial<EngineConfig['rendezvous']>;
  network?: Partial<EngineConfig['network']>;
  keepalive?: Partial<EngineConfig['keepalive']>;
  peerConnection?: Partial<EngineConfig['peerConnection']>;
  logging?: Partial<EngineConfig['logging']>;
  files?: Partial<EngineConfig['files']>;
}

export function validateIdentityField(field: 'name' | 'namespace', value: string): string | undefined {
  // Over 128 UTF-16 units is over 64 characters: answer before spreading a huge string.
  const length = value.length > 128 ? Infinity : [...value].length;
  if (length < 1 || length > 64) return `${field} must be 1 to 64 characters`;
  if (/[\u0000-\u001f\u007f@\s]/u.test(value)) return `${field} must not contain spaces, '@' or control characters`;
  return undefined;
}

export function validatePort(value: number, allowZero = false): string | undefined {
  return Number.isInteger(value) && value >= (allowZero ? 0 : 1) && value <= 65535 ? undefined : `port must be an integer from ${allowZero ? 0 : 1} to 65535`;
}

/** Reads a config file in the Python clients' layout. Unknown keys are ignored, wrong types are errors. */
export function readConfigFile(path: string): ConfigOverrides {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${path}: expected a JSON object`);
  const file = new ConfigReader(path, raw as Record<string, unknown>);
  const overrides: ConfigOverrides = {
    name: file.string('name'),
    namespace: file.string('namespace'),
    // Flat keys of the simplest Python clients, then the sectioned ones.
    port: file.integer('network.listen_port', 0, 65535) ?? file.integer('listen_port', 0, 65535),
    listenHost: file.string('network.listen_host') ?? file.string('listen_host'),
    ttl: file.integer('rendezvous.ttl', 1, 86400) ?? file.integer('ttl', 1, 86400),
    rendezvous: {
      host: file.string('rendezvous.host') ?? file.string('rendezvous_host'),
      port: file.integer('rendezvous.port', 1, 65535) ?? file.integer('rendezvous_port', 1, 65535),
      discoverIntervalMs: file.seconds('rendezvous.discover_interval'),
      timeoutMs: file.seconds('rendezvous.timeout'),
      maxRequestsPerMinute: file.integer('rendezvous.max_requests_per_minute', 1, 49),
    },
    network: {
      ackTimeoutMs: file.seconds('network.ack_timeout'),
      handshakeTimeoutMs: file.seconds('network.handshake_timeout'),
      byeTimeoutMs: file.seconds('network.bye_timeout'),
      pipelineWindow: file.integer('network.pipeline_window', 1, 1024),
      maxStrikes: file.integer('network.max_strikes', 1, 1000),
      maxPendingHandshakes: file.integer('network.max_pending_handshakes', 1, 100_000),
      maxPendingPerIp: file.integer('network.max_pending_per_ip', 1, 100_000),
      maxConnectionsPerIp: file.integer('network.max_connections_per_ip', 1, 1_000_000),
      // At least two of the largest frames, so that one frame alone never counts as not reading.
      maxWriteQueueBytes: file.integer('network.max_write_queue_bytes', 65_536, 2 ** 30),
      maxConcurrentDials: file.integer('network.max_concurrent_dials', 1, 10_000),
    },
    keepalive: {
      pingIntervalMs: file.seconds('keepalive.ping_interval'),
      maxMissedPongs: file.integer('keepalive.max_missed_pongs', 1, 100),
    },
    peerConnection: {
      retryAttempts: file.integer('peer_connection.retry_attempts', 0, 100),
      maxReconnectAttempts: file.integer('peer_connection.max_reconnect_attempts', 0, 1000),
      backoffBaseMs: file.seconds('peer_connection.backoff_base'),
      backoffMaxMs: file.seconds('peer_connection.backoff_max'),
      policy: file.oneOf('peer_connection.policy', ['all', 'namespace'] as const),
    },
    logging: { level: file.logLevel('logging.level'), file: file.string('logging.file') },
  };
  return overrides;
}

/** Applies overrides on top of a config; undefined values leave the setting as it was. */
export function mergeConfig(base: EngineConfig, ...layers: ConfigOverrides[]): EngineConfig {
  const out = structuredClone(base);
  for (const layer of layers) {
    for (const key of ['name', 'namespace', 'port', 'listenHost', 'ttl'] as const) {
      if (layer[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = layer[key];
    }
    for (const section of ['rendezvous', 'network', 'keepalive', 'peerConnection', 'logging', 'files'] as const) {
      for (const [k, v] of Object.entries(layer[section] ?? {})) {
        if (v !== undefined) (out[section] as unknown as Record<string, unknown>)[k] = v;
      }
    }
  }
  return out;
}

/** Checks a complete config; returns every problem, as a user would fix them. */
export function configProblems(config: EngineConfig): string[] {
  return [
    validateIdentityField('name', config.name),
    validateIdentityField('namespace', config.namespace),
    validatePort(config.port, true),
    config.ttl >= 1 && config.ttl <= 86400 ? undefined : 'ttl must be 1 to 86400 seconds',
    validatePort(config.rendezvous.port) && `rendezvous ${validatePort(config.rendezvous.port)}`,
  ].filter((p): p is string => typeof p === 'string');
}

class ConfigReader {
  private readonly path: string;
  private readonly root: Record<string, unknown>;
  constructor(path: string, root: Record<string, unknown>) {
    this.path = path;
    this.root = root;
  }

  private get(key: string): unknown {
    let node: unknown = this.root;
    for (const part of key.split('.')) {
      if (typeof node !== 'object' || node === null) return undefined;
      node = (node as Record<string, unknown>)[part];
    }
    return node ?? undefined;
  }

  private wrong(key: string, expected: string): never {
    throw new ConfigError(`${this.path}: ${key} must be ${expected}`);
  }

  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || typeof v === 'string') return v;
    return this.wrong(key, 'a string');
  }

  integer(key: string, min: number, max: number): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    return this.wrong(key, `an integer from ${min} to ${max}`);
  }

  /** A duration in seconds (fractions allowed), returned in milliseconds. */
  seconds(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 86400) return Math.round(v * 1000);
    return this.wrong(key, 'a number of seconds greater than 0');
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    return this.wrong(key, `one of ${allowed.join(', ')}`);
  }

  logLevel(key: string): LogLevel | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    // Python's logging spells it WARNING.
    return parseLogLevel(v.toUpperCase() === 'WARNING' ? 'WARN' : v) ?? this.wrong(key, 'DEBUG, INFO, WARN or ERROR');
  }
}
