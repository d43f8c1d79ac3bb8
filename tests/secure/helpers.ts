// Engines with chatp2p-secure on (each with its own identity key), on 127.0.0.1.

import { Engine } from '../../src-main/engine/engine.ts';
import type { ConfigOverrides } from '../../src-main/engine/config.ts';
import { testEngineConfig } from '../helpers/peers.ts';
import type { IncomingMessage, OutgoingMessage, PeerKeyView } from '../../src-main/engine/api.ts';
import { generateKeyPair, type KeyPair } from '../../src-main/engine/secure/noise.ts';
import type { MessageStore } from '../../src-main/engine/store/store.ts';

export interface SecureEngine {
  engine: Engine;
  identity: KeyPair;
  messages: IncomingMessage[];
  deliveries: OutgoingMessage[];
  keys: PeerKeyView[];
  logs: string[];
  security(peerId: string): string | undefined;
  delivered(msgId: string): boolean;
}

const running = new Set<Engine>();

export async function startSecureEngine(
  rendezvousPort: number,
  name: string,
  options: { identity?: KeyPair; store?: MessageStore; overrides?: ConfigOverrides } = {},
): Promise<SecureEngine> {
  const config = testEngineConfig(rendezvousPort, name, 'CIC', { peerConnection: { maxReconnectAttempts: 1000 } }, options.overrides ?? {});
  const identity = options.identity ?? generateKeyPair();
  const engine = new Engine({ config, store: options.store, identity });
  const t: SecureEngine = {
    engine,
    identity,
    messages: [],
    deliveries: [],
    keys: [],
    logs: [],
    security: (peerId) => engine.peers().find((p) => p.peerId === peerId && p.state === 'open')?.security,
    delivered: (msgId) => t.deliveries.some((d) => d.msgId === msgId && d.state === 'delivered'),
  };
  engine.on('message', (m) => t.messages.push(m));
  engine.on('delivery', (d) => t.deliveries.push(d));
  engine.on('keys', (k) => t.keys.push(k));
  engine.on('log', (l) => t.logs.push(`${l.level} [${l.module}] ${l.message}`));
  running.add(engine);
  await engine.start();
  return t;
}

export async function stopSecureEngine(t: SecureEngine): Promise<void> {
  await t.engine.stop();
  running.delete(t.engine);
}

export async function stopSecureEngines(): Promise<void> {
  await Promise.all([...running].map((e) => e.stop()));
  running.clear();
}
