// The ChatApi's implementation, shared by both hosts: Electron main (over IPC) and the browser
// host (over a WebSocket). It owns the settings, the engine for the saved profile, the embedded
// rendezvous server for "This computer", and the profile's history (one SQLite file per peer_id,
// which the engine's outbox lives in too). Pure Node: the hosts inject what differs (where
// settings live, how a link is opened).

import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, sep } from 'node:path';
import {
  BROADCAST,
  COMMANDS,
  LIMITS,
  MUTE_DURATIONS,
  conversationKind,
  conversationPeer,
  isMuted,
  notifies,
  dmConversation,
  type AppStatus,
  type ChatCommands,
  type ChatError,
  type ChatErrorCode,
  type ChatEvents,
  type ChatMessage,
  type ChatPeer,
  type CommandName,
  type CommandReply,
  type ConversationId,
  type ConversationSummary,
  type EventEnvelope,
  type EventName,
  type LogEvent,
  type Profile,
  type Settings,
  type SettingsPatch,
  type Snapshot,
} from '../../src-shared/chat-api.ts';
import { EngineCommandError, type EngineErrorCode, type FileTransfer } from '../engine/api.ts';
import { safeFileName } from '../engine/extensions/files.ts';
import { Engine } from '../engine/engine.ts';
import { identityKeyPath, loadIdentityKey, type KeyProtection } from '../engine/secure/identity.ts';
import { Logger, type ModuleLogger } from '../engine/log.ts';
import { RendezvousError, rendezvousRequest } from '../engine/rendezvous/client.ts';
import { openMessageStore, type SqliteMessageStore } from '../engine/store/sqlite-store.ts';
import { StoreError } from '../engine/store/store.ts';
import { nameOf, namespaceOf } from '../engine/wire/messages.ts';
import { startRendezvousServer, type RendezvousServer } from '../rendezvous-server/server.ts';
import { ArgumentError, checkArguments } from './arguments.ts';
import { Drafts } from './drafts.ts';
import { historyPath } from './history-path.ts';
import { chatMessage, exportConversation, fromIncoming, fromOutgoing } from './messages.ts';
import { applyPatch, engineConfigFor, engineFilesConfig, normalizeSettings, SettingsError, validatePatch, type SettingsStore } from './settings.ts';

export interface ChatServiceOptions {
  store: SettingsStore;
  /** Folder for each profile's history and the embedded rendezvous server's records. */
  dataDir: string;
  host: Snapshot['host'];
  /** Opens a link in the system browser; called only with a URL that passed `allowedExternalUrl`. */
  openExternal: (url: string) => Promise<void> | void;
  /** The system's Downloads folder (Electron: `app.getPath('downloads')`), unless the settings name another. */
  downloadsDir?: string;
  /** The host's own file picker (no path comes from the renderer); without one, attaching is refused. */
  pickFiles?: () => Promise<string[]>;
  /** The host's own folder picker for the download folder (undefined: cancelled); without one, only Downloads is used. */
  pickFolder?: () => Promise<string | undefined>;
  /** Opens a received file with its application, and shows one in its folder (Electron's shell). */
  openPath?: (path: string) => Promise<void>;
  showItemInFolder?: (path: string) => void;
  /** Where we accept peers (and run the embedded server); default every interface. */
  listenHost?: string;
  /**
   * How the profile's chatp2p-secure identity key is kept encrypted at rest, asked each time a
   * profile starts (the desktop app answers with Electron's safeStorage, which is known only once
   * the app is ready); without one the key file's 0600 mode is its only protection, and the
   * status says so.
   */
  keyProtection?: () => KeyProtection | undefined;
  now?: () => number;
}

/** A command that cannot run in the current state (no profile yet, ...), or an engine that cannot start. */
class ServiceError extends Error {
  readonly info: ChatError;

  constructor(info: ChatError) {
    super(info.detail ?? info.code);
    this.info = info;
  }
}

const LOG_LINES_KEPT = 1000;

type Handlers = { [K in CommandName]: (...args: ChatCommands[K]['args']) => Promise<ChatCommands[K]['result']> | ChatCommands[K]['result'] };

export class ChatService {
  private readonly o: ChatServiceOptions;
  private readonly events = new EventEmitter();
  private readonly logger: Logger;
  private readonly log: ModuleLogger;
  /** The running (or last) profile's history; it outlives engine restarts of the same profile. */
  private history: { peerId: string; store: SqliteMessageStore; drafts: Drafts } | undefined;
  private lastSummaries: ConversationSummary[] = [];
  private readonly peers = new Map<string, ChatPeer>();
  private readonly logLines: LogEvent[] = [];
  private current: Settings;
  private engine: Engine | undefined;
  private unsubscribe: (() => void)[] = [];
  private server: RendezvousServer | undefined;
  private startError: ChatError | undefined;
  private identity: AppStatus['identity'];
  private active: ConversationId | undefined;
  /** Dropped files the renderer is sending us, staged under dataDir/outgoing until offered. */
  private readonly uploads = new Map<string, { peerId: string; path: string; fd: number; size: number; received: number }>();
  /** Events already due at the end of this turn. */
  private readonly dueThisTurn = new Set<'status' | 'conversations'>();
  /** start/stop/restart run one after another, never interleaved. */
  private lifecycle: Promise<unknown> = Promise.resolve();

  constructor(options: ChatServiceOptions) {
    this.o = options;
    this.events.setMaxListeners(0);
    const { settings, problems } = normalizeSettings(options.store.read());
    this.current = settings;
    this.logger = new Logger({ level: settings.logLevel, now: options.now, sink: (r) => this.addLog({ time: r.time.toISOString(), level: r.level, module: r.module, message: r.message }) });
    this.log = this.logger.module('App');
    for (const problem of problems) this.log.warn(`Settings: ${problem}`);
  }

  get settings(): Settings {
    return structuredClone(this.current);
  }

  /** A desktop notification the system refused: the window shows the message as a banner. */
  notifyInApp(message: ChatMessage): void {
    this.emit('in-app-notification', message);
  }

  get activeConversation(): ConversationId | undefined {
    return this.active;
  }

  totalUnread(): number {
    return this.summaries().reduce((n, c) => n + c.unread, 0);
  }

  on<K extends EventName>(event: K, listener: (payload: ChatEvents[K]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  /** Every event, as the envelope a host forwards as it is. */
  onEvent(listener: (envelope: EventEnvelope) => void): () => void {
    this.events.on('*', listener);
    return () => this.events.off('*', listener);
  }

  /** Starts the engine for the saved profile, if there is one. */
  start(): Promise<void> {
    return this.serial(async () => {
      if (this.current.profile) await this.startEngine(this.current.profile).catch(() => undefined);
    });
  }

  /** Leaves the network (BYE to every peer, UNREGISTER), closes the embedded server and the history. */
  stop(): Promise<void> {
    return this.serial(async () => {
      await this.stopEngine();
      this.closeHistory();
    });
  }

  /** For trusted callers in the host (the tray's "mute"); the renderer goes through dispatch. */
  updateSettings(patch: SettingsPatch): Settings {
    const before = this.current;
    this.current = applyPatch(before, patch);
    this.o.store.write(this.current);
    this.emit('settings', this.settings);
    if (patch.logLevel && patch.logLevel !== before.logLevel) this.applyLogLevel(patch.logLevel);
    if (patch.readReceipts !== undefined && patch.readReceipts !== before.readReceipts) this.engine?.setReadReceipts(patch.readReceipts);
    if (patch.files) this.engine?.setFilesConfig(engineFilesConfig(this.current.files, this.o.downloadsDir));
    if (patch.notifyChannels || patch.muted || patch.doNotDisturb !== undefined || patch.notifications !== undefined) this.emitConversations();
    const restart =
      this.current.connectionPolicy !== before.connectionPolicy || JSON.stringify(this.current.timers) !== JSON.stringify(before.timers);
    if (restart && this.engine && this.current.profile) {
      const profile = this.current.profile;
      this.log.info('Timers or connection policy changed: reconnecting with the new values');
      void this.serial(() => this.startEngine(profile)).catch(() => undefined);
    }
    return this.settings;
  }

  /** Asks the UI to show a conversation (a notification was clicked). */
  openConversation(conversationId: ConversationId): void {
    this.emit('open-conversation', { conversationId });
  }

  /** Runs one ChatApi command from the renderer: checks its name and arguments first; never throws. */
  async dispatch(command: unknown, args: unknown): Promise<CommandReply> {
    if (typeof command !== 'string' || !(COMMANDS as readonly string[]).includes(command)) {
      this.log.warn(`Refused an unknown command ${JSON.stringify(String(command)).slice(0, 80)}`);
      return { ok: false, error: { code: 'invalid-request', detail: 'unknown command' } };
    }
    if (!Array.isArray(args)) return { ok: false, error: { code: 'invalid-request', detail: 'arguments must be a list' } };
    const name = command as CommandName;
    try {
      const handler = this.handlers[name] as (...a: unknown[]) => unknown;
      return { ok: true, value: await handler(...checkArguments(name, args)) };
    } catch (err) {
      if (err instanceof ServiceError) return { ok: false, error: err.info };
      if (err instanceof ArgumentError) return { ok: false, error: { code: err.code, detail: err.message } };
      if (err instanceof EngineCommandError) return { ok: false, error: { code: ENGINE_ERRORS[err.code], detail: err.message } };
      this.log.error(`${name} failed: ${(err as Error).stack ?? String(err)}`);
      return { ok: false, error: { code: 'unexpected', detail: `${name} failed: ${(err as Error).message}` } };
    }
  }

  private readonly handlers: Handlers = {
    getSnapshot: () => this.snapshot(),
    startProfile: async (profile) => {
      const previous = this.engine ? this.current.profile : undefined;
      try {
        await this.serial(() => this.startEngine(profile));
      } catch (err) {
        // A change that fails (port in use, ...) must not leave the user offline: go back online as before.
        if (previous) await this.serial(() => this.startEngine(previous)).catch(() => undefined);
        throw err;
      }
      this.current = { ...this.current, profile };
      this.o.store.write(this.current);
      this.emit('settings', this.settings);
      this.emitConversations();
      return this.snapshot();
    },
    checkProfile: async (profile) => {
      const [port, rendezvous] = await Promise.all([this.checkPort(profile.port), this.checkRendezvous(profile)]);
      return { port, rendezvous };
    },
    updateSettings: (patch) => this.updateSettings(patch),
    sendDirect: (peerId, text, replyTo) => {
      const engine = this.requireEngine();
      const message = this.addOutgoing(fromOutgoing(engine.sendDirect(peerId, text, replyTo), engine.peerId));
      // Someone not on the rendezvous list: listed as offline, with what waits for them.
      if (!this.peers.has(peerId)) this.emit('peer', offlinePeer(peerId));
      return message;
    },
    typing: (id) => {
      if (conversationKind(id) === 'dm') this.requireEngine().typing(id.slice(3));
    },
    publish: (to, text) => {
      const engine = this.requireEngine();
      return this.addOutgoing(fromOutgoing(engine.publish(to, text), engine.peerId));
    },
    retry: (msgId) => {
      const engine = this.requireEngine();
      return fromOutgoing(engine.retry(msgId), engine.peerId);
    },
    cancel: (msgId) => {
      const engine = this.requireEngine();
      return fromOutgoing(engine.cancel(msgId), engine.peerId);
    },
    reconnect: (peerId) => this.requireEngine().reconnect(peerId),
    discover: async () => {
      const engine = this.requireEngine();
      try {
        await engine.discover();
      } catch (err) {
        if (err instanceof RendezvousError) throw new ServiceError(rendezvousProblem(err, engine.status().registration.server));
        throw err;
      }
    },
    setLogLevel: (level) => {
      this.updateSettings({ logLevel: level });
    },
    history: (id, query = {}) => {
      const store = this.history?.store;
      if (!store) return { messages: [], hasOlder: false, hasNewer: false };
      const page = store.page(id, { ...query, limit: query.limit ?? LIMITS.historyPage });
      return { ...page, messages: page.messages.map(chatMessage) };
    },
    search: (text) =>
      (this.history?.store.search(text, LIMITS.searchResults) ?? []).map((hit) => ({
        conversationId: hit.conversation,
        message: chatMessage(hit.message),
        parts: hit.parts,
      })),
    exportConversation: (id, format) => {
      const history = this.requireHistory();
      const messages: ChatMessage[] = [];
      for (let after = 0, more = true; more; ) {
        const page = history.store.page(id, { after, limit: 5000 });
        messages.push(...page.messages.map(chatMessage));
        after = page.messages.at(-1)?.seq ?? after;
        more = page.hasNewer;
      }
      return exportConversation(id, format, messages, history.peerId, new Date((this.o.now ?? Date.now)()));
    },
    deleteConversation: (id) => {
      const history = this.requireHistory();
      // Its queued DMs leave the outbox first, so none is sent after the chat is gone.
      for (const pending of history.store.pendingOutgoing()) if (dmConversation(pending.to) === id) this.cancelQuietly(pending.msgId);
      history.store.deleteConversation(id);
      history.drafts.delete(id);
      if (this.active === id) this.active = undefined;
      this.log.info(`Deleted the conversation ${id}`);
      if (conversationKind(id) === 'dm' && !this.peers.has(id.slice(3))) this.emit('peer-removed', { peerId: id.slice(3) });
      this.emitConversations();
    },
    markRead: (id, upTo) => this.markRead(id, upTo),
    markAllRead: () => {
      for (const row of this.history?.store.conversations() ?? []) if (row.firstUnread !== undefined) this.markRead(row.key, undefined, row.firstUnread);
    },
    setDraft: (id, text) => {
      const { drafts } = this.requireHistory();
      if (text !== '' && !drafts.hasRoomFor(id)) throw new ServiceError({ code: 'invalid-request', detail: 'too many drafts: send or clear some first' });
      if (drafts.set(id, text)) this.emitConversations();
    },
    deleteMessage: (id, seq) => {
      const history = this.requireHistory();
      const message = history.store.page(id, { around: seq, limit: 1 }).messages[0];
      if (message?.seq !== seq) throw new ServiceError({ code: 'invalid-request', detail: 'no such message in this conversation' });
      // A waiting DM leaves the outbox first, so it is not sent after it was deleted.
      if (message.direction === 'out' && (message.state === 'queued' || message.state === 'sent')) this.cancelQuietly(message.msgId);
      history.store.deleteMessage(id, seq);
      this.emit('message-removed', { conversationId: id, seq });
      this.emitConversations();
    },
    resend: (msgId) => {
      const engine = this.requireEngine();
      const store = this.requireHistory().store;
      const old = store.outgoing(msgId);
      if (!old || old.kind !== 'dm' || old.state !== 'cancelled') throw new ServiceError({ code: 'not-waiting', detail: 'only a cancelled direct message can be sent again' });
      const message = this.addOutgoing(fromOutgoing(engine.sendDirect(old.to, old.text, old.replyTo), engine.peerId));
      store.deleteMessage(message.conversationId, old.seq);
      this.emit('message-removed', { conversationId: message.conversationId, seq: old.seq });
      return message;
    },
    setActiveConversation: (id) => {
      this.active = id;
    },
    logs: () => [...this.logLines],
    mute: (id, duration) => {
      const now = this.clock();
      // Mutes that ran out leave the settings as this one is written.
      const muted = Object.fromEntries(Object.entries(this.current.muted).filter(([chat]) => chat !== id && isMuted(this.current.muted, chat, now)));
      if (duration !== 'off') muted[id] = duration === 'always' ? 'always' : now + MUTE_DURATIONS[duration];
      return this.updateSettings({ muted });
    },
    openLink: async (url) => {
      await this.o.openExternal(url);
    },
    keys: (peerId) => {
      const engine = this.requireEngine();
      return { fingerprint: engine.identityFingerprint, keys: engine.keys(peerId) };
    },
    acceptKey: (peerId) => this.requireEngine().acceptKey(peerId),
    verifyKey: (peerId, verified) => this.requireEngine().verifyKey(peerId, verified),
    chooseDownloadFolder: async () => {
      if (!this.o.pickFolder) throw new ServiceError({ code: 'desktop-only', detail: 'choosing a folder works in the desktop app' });
      const picked = await this.o.pickFolder();
      if (picked === undefined) return this.settings;
      return this.updateSettings({ files: { downloadDir: writableFolder(picked) } });
    },
    attachFiles: async (peerId) => {
      const engine = this.requireEngine();
      if (!this.o.pickFiles) throw new ServiceError({ code: 'desktop-only', detail: 'attaching files works in the desktop app' });
      if (engine.fileSupport(peerId) === 'legacy') throw new ServiceError({ code: 'files-unsupported', detail: fileSupportReason(peerId, 'legacy') });
      const paths = await this.o.pickFiles();
      const offered = [];
      for (const path of paths) offered.push(await engine.sendFile(peerId, path));
      return offered;
    },
    beginUpload: (peerId, name, size) => {
      const engine = this.requireEngine();
      if (engine.fileSupport(peerId) === 'legacy') throw new ServiceError({ code: 'files-unsupported', detail: fileSupportReason(peerId, 'legacy') });
      if (size > this.current.files.maxMB * 2 ** 20) throw new ServiceError({ code: 'file-too-large', maxMB: this.current.files.maxMB, detail: `${size} bytes` });
      const id = randomUUID();
      const folder = join(this.o.dataDir, 'outgoing', id);
      mkdirSync(folder, { recursive: true });
      const path = join(folder, safeFileName(name));
      this.uploads.set(id, { peerId, path, fd: openSync(path, 'wx'), size, received: 0 });
      return id;
    },
    uploadChunk: (id, offset, data) => {
      const upload = this.uploads.get(id);
      if (!upload) throw new ServiceError({ code: 'upload-failed', detail: 'unknown upload' });
      const bytes = Buffer.from(data, 'base64');
      if (offset !== upload.received || upload.received + bytes.length > upload.size) {
        this.dropUpload(id);
        throw new ServiceError({ code: 'upload-failed', detail: 'the file changed while it was read' });
      }
      writeSync(upload.fd, bytes, 0, bytes.length, offset);
      upload.received += bytes.length;
    },
    finishUpload: async (id) => {
      const upload = this.uploads.get(id);
      if (!upload || upload.received !== upload.size) {
        if (upload) this.dropUpload(id);
        throw new ServiceError({ code: 'upload-failed', detail: 'the file did not arrive whole' });
      }
      this.uploads.delete(id);
      closeSync(upload.fd);
      return this.requireEngine().sendFile(upload.peerId, upload.path);
    },
    acceptFile: (id) => this.requireEngine().acceptFile(id),
    declineFile: (id) => this.requireEngine().declineFile(id),
    cancelTransfer: (id) => this.requireEngine().cancelTransfer(id),
    transfers: () => this.engine?.transfers() ?? [],
    fileSupport: (peerId) => {
      const support = this.requireEngine().fileSupport(peerId);
      return { support, reason: fileSupportReason(peerId, support) };
    },
    openDownload: async (id) => {
      if (!this.o.openPath) throw new ServiceError({ code: 'desktop-only', detail: 'opening files works in the desktop app' });
      const path = this.download(id);
      await this.o.openPath(path).catch((err: Error) => {
        throw new ServiceError({ code: 'file-open-failed', detail: err.message });
      });
    },
    previewDownload: (id) => {
      const path = this.download(id);
      if (statSync(path).size > MAX_PREVIEW_BYTES) throw new ServiceError({ code: 'preview-unavailable', detail: 'the image is too large for a preview' });
      const bytes = readFileSync(path);
      const mediaType = imageType(bytes);
      if (!mediaType) throw new ServiceError({ code: 'preview-unavailable', detail: 'not an image' });
      return { mediaType, data: bytes.toString('base64') };
    },
    showDownload: (id) => {
      if (!this.o.showItemInFolder) throw new ServiceError({ code: 'desktop-only', detail: 'showing files works in the desktop app' });
      this.o.showItemInFolder(this.download(id));
    },
  };

  private snapshot(): Snapshot {
    const conversations = this.summaries();
    return { settings: this.settings, status: this.status(), peers: this.peerList(conversations), conversations, host: this.o.host };
  }

  private status(): AppStatus {
    const s = this.engine?.status();
    return {
      running: s !== undefined,
      peerId: s?.peerId,
      listen: s?.listen,
      registration: s?.registration,
      openConnections: s?.peers.open ?? 0,
      avgRttMs: s?.avgRttMs,
      logLevel: this.current.logLevel,
      counters: s?.counters,
      error: this.startError,
      localServer: this.server && { host: this.server.host, port: this.server.port },
      identity: s && this.identity,
    };
  }

  /** Discovered peers, and the people we have chats with who are no longer listed (offline). */
  private peerList(conversations: ConversationSummary[]): ChatPeer[] {
    const list = [...this.peers.values()];
    for (const summary of conversations) {
      if (summary.kind === 'dm' && !this.peers.has(summary.title)) list.push(offlinePeer(summary.title));
    }
    return list;
  }

  /** Broadcast and our namespace always, then every conversation in the history, latest first. */
  private summaries(): ConversationSummary[] {
    const now = this.clock();
    const rows = this.history?.store.conversations() ?? [];
    const drafts = this.history?.drafts;
    const ids = new Set(rows.map((r) => r.key));
    const own = this.current.profile && `#${this.current.profile.namespace}`;
    // A draft to someone we have not talked with yet lists that chat too.
    for (const id of [own, BROADCAST, ...(drafts?.ids() ?? [])]) {
      if (id && !ids.has(id)) rows.push({ key: id, unread: 0, queued: 0, firstUnread: undefined, last: undefined });
      if (id) ids.add(id);
    }
    const list = rows.map(
      (r): ConversationSummary => ({
        id: r.key,
        kind: conversationKind(r.key),
        title: conversationPeer(r.key) ?? r.key,
        unread: r.unread,
        queued: r.queued,
        last: r.last && { from: r.last.from, text: r.last.text.slice(0, 200), at: r.last.direction === 'in' ? r.last.receivedAt : r.last.createdAt },
        notify: notifies(r.key, this.current, now),
        firstUnread: r.firstUnread,
        draft: drafts?.get(r.key),
      }),
    );
    this.lastSummaries = list.sort((a, b) => (b.last?.at ?? 0) - (a.last?.at ?? 0));
    return this.lastSummaries;
  }

  private clock(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Moves the read position; a ChatP2P peer is told which of its DMs that made read (chatp2p-receipts). */
  private markRead(id: ConversationId, upTo?: number, firstUnread?: number): void {
    const store = this.history?.store;
    if (!store) return;
    const engine = this.engine;
    const refs = engine && this.current.readReceipts && conversationKind(id) === 'dm' ? newlyRead(store, id, upTo, firstUnread) : [];
    if (!store.markRead(id, upTo)) return;
    this.emitConversations();
    engine?.markRead(id.slice(3), refs);
  }

  /** Takes a DM out of the outbox before its row goes; one not in this run's outbox needs nothing. */
  private cancelQuietly(msgId: string): void {
    try {
      this.engine?.cancel(msgId);
    } catch (err) {
      if (!(err instanceof EngineCommandError)) throw err;
    }
  }

  private requireEngine(): Engine {
    if (!this.engine) throw new ServiceError(this.startError ?? NOT_CONNECTED);
    return this.engine;
  }

  private requireHistory(): NonNullable<ChatService['history']> {
    if (!this.history) throw new ServiceError(this.startError ?? NOT_CONNECTED);
    return this.history;
  }

  private addOutgoing(message: ChatMessage): ChatMessage {
    this.emit('message', { ...message });
    this.emitConversations();
    return message;
  }

  /** The profile's history file, opened once per peer_id; a foreign or damaged file is refused, not replaced. */
  private openHistory(peerId: string): SqliteMessageStore {
    if (this.history?.peerId === peerId) return this.history.store;
    this.closeHistory();
    const path = historyPath(this.o.dataDir, peerId);
    mkdirSync(dirname(path), { recursive: true });
    const store = openMessageStore(path, (err) => this.log.error(`History ${path}: ${err.message}`));
    const drafts = new Drafts(join(dirname(path), 'drafts.json'), (problem) => this.log.warn(problem));
    this.history = { peerId, store, drafts };
    this.log.info(`History: ${path}`);
    return store;
  }

  private closeHistory(): void {
    this.history?.store.close();
    this.history = undefined;
  }

  private async startEngine(profile: Profile): Promise<void> {
    await this.stopEngine();
    const listenHost = this.o.listenHost ?? '0.0.0.0';
    const config = engineConfigFor(profile, this.current, listenHost, this.o.downloadsDir);
    try {
      const peerId = `${profile.name}@${profile.namespace}`;
      const store = this.openHistory(peerId);
      const { key, protected: protectedAtRest } = loadIdentityKey(identityKeyPath(historyPath(this.o.dataDir, peerId)), this.o.keyProtection?.());
      if (profile.rendezvous.preset === 'local') await this.startLocalServer(listenHost, profile.rendezvous.port);
      const engine = new Engine({ config, now: this.o.now, store, identity: key, readReceipts: this.current.readReceipts });
      this.identity = { fingerprint: engine.identityFingerprint!, protectedAtRest };
      this.subscribe(engine);
      try {
        await engine.start();
      } catch (err) {
        for (const off of this.unsubscribe.splice(0)) off();
        await engine.stop();
        throw err;
      }
      this.engine = engine;
      this.startError = undefined;
    } catch (err) {
      this.startError = startError(err, profile);
      this.log.error(`Cannot start ${profile.name}@${profile.namespace}: ${this.startError.detail ?? this.startError.code}`);
      await this.server?.close();
      this.server = undefined;
      throw new ServiceError(this.startError);
    } finally {
      this.queueStatus();
    }
  }

  private async stopEngine(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await engine.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    for (const peerId of [...this.peers.keys()]) this.removePeer(peerId);
    await this.server?.close();
    this.server = undefined;
    this.queueStatus();
  }

  /** Whether we could listen on `port` now; the port the engine already has counts as free. */
  private async checkPort(port: number): Promise<ChatError | undefined> {
    if (port === 0 || this.engine?.status().listen.port === port) return undefined;
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.o.listenHost ?? '0.0.0.0', resolve);
      });
      return undefined;
    } catch (err) {
      const detail = (err as Error).message;
      return (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? { code: 'port-in-use', port, detail } : { code: 'port-unavailable', port, detail };
    } finally {
      server.close();
    }
  }

  /**
   * One DISCOVER to the profile's server: any well-formed answer proves a rendezvous server, even
   * `peer_not_registered` (we are not registered there yet). "This computer" runs its own.
   */
  private async checkRendezvous(profile: Profile): Promise<ChatError | undefined> {
    if (profile.rendezvous.preset === 'local') return undefined;
    const { host, port } = profile.rendezvous;
    const server = `${host}:${port}`;
    try {
      await rendezvousRequest({ host, port, timeoutMs: PROBE_TIMEOUT_MS }, { type: 'DISCOVER' });
      return undefined;
    } catch (err) {
      if (!(err instanceof RendezvousError)) return { code: 'unexpected', detail: (err as Error).message };
      return err.code === 'server' ? undefined : rendezvousProblem(err, server);
    }
  }

  /** "This computer": our own rendezvous server; if the port is taken, one already runs there. */
  private async startLocalServer(host: string, port: number): Promise<void> {
    try {
      this.server = await startRendezvousServer({ host, port, db: join(this.o.dataDir, 'rendezvous.sqlite'), logger: this.logger });
      this.log.info(`Rendezvous server for this computer on ${host}:${this.server.port}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new ServiceError({ code: 'local-server-failed', port, detail: (err as Error).message });
      this.log.info(`Port ${port} is taken: using the rendezvous server already running there`);
    }
  }

  private dropUpload(id: string): void {
    const upload = this.uploads.get(id);
    if (!upload) return;
    this.uploads.delete(id);
    closeSync(upload.fd);
    rmSync(dirname(upload.path), { recursive: true, force: true });
  }

  /** A staged upload whose transfer ended is no longer needed. */
  private onTransfer(transfer: FileTransfer): void {
    this.emit('transfer', transfer);
    const staging = join(this.o.dataDir, 'outgoing');
    if (transfer.direction === 'out' && transfer.state !== 'offered' && transfer.state !== 'transferring' && transfer.path?.startsWith(staging + sep)) {
      rmSync(dirname(transfer.path), { recursive: true, force: true });
    }
  }

  /** A file we received and verified: the only paths main opens or shows. */
  private download(id: string): string {
    const transfer = this.engine?.transfers().find((t) => t.id === id);
    if (!transfer || transfer.direction !== 'in' || transfer.state !== 'complete' || transfer.path === undefined) throw new ServiceError({ code: 'transfer-ended', detail: 'only a file received and verified can be opened' });
    return transfer.path;
  }

  private subscribe(engine: Engine): void {
    this.unsubscribe = [
      engine.on('registration', () => this.queueStatus()),
      engine.on('peer', (view) => {
        this.peers.set(view.peerId, view);
        this.emit('peer', view);
        this.queueStatus();
      }),
      engine.on('peer-removed', ({ peerId }) => this.removePeer(peerId)),
      engine.on('message', (incoming) => {
        const message = fromIncoming(incoming);
        this.emit('message', message);
        this.emitConversations();
      }),
      engine.on('delivery', (update) => {
        this.emit('delivery', fromOutgoing(update, engine.peerId));
        // A DM joining or leaving the outbox changes its conversation's queued count.
        if (update.kind === 'dm' && update.state !== 'sent') this.emitConversations();
      }),
      engine.on('typing', ({ peerId, typing }) => this.emit('typing', { conversationId: dmConversation(peerId), typing })),
      engine.on('keys', (view) => this.emit('keys', view)),
      engine.on('transfer', (transfer) => this.onTransfer(transfer)),
      engine.on('log', (line) => this.addLog(line)),
    ];
  }

  /** A peer that leaves the list stays visible as offline while we have a chat with it. */
  private removePeer(peerId: string): void {
    this.peers.delete(peerId);
    if (this.lastSummaries.some((c) => c.id === dmConversation(peerId))) this.emit('peer', offlinePeer(peerId));
    else this.emit('peer-removed', { peerId });
    this.queueStatus();
  }

  private applyLogLevel(level: Settings['logLevel']): void {
    this.logger.setLevel(level);
    this.engine?.setLogLevel(level);
    this.queueStatus();
  }

  private addLog(line: LogEvent): void {
    this.logLines.push(line);
    if (this.logLines.length > LOG_LINES_KEPT) this.logLines.shift();
    this.emit('log', line);
  }

  /** A burst of messages (or deliveries) changes the list once: one summary per turn. */
  private emitConversations(): void {
    this.oncePerTurn('conversations', () => this.summaries());
  }

  /** Peer events come in bursts (a DISCOVER, a PONG per peer): one status per turn is enough. */
  private queueStatus(): void {
    this.oncePerTurn('status', () => this.status());
  }

  /** Emits the event at the end of this turn, once however often it was asked for, with the state then. */
  private oncePerTurn<K extends 'status' | 'conversations'>(event: K, payload: () => ChatEvents[K]): void {
    if (this.dueThisTurn.has(event)) return;
    this.dueThisTurn.add(event);
    setImmediate(() => {
      this.dueThisTurn.delete(event);
      this.emit(event, payload());
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(task, task);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  private emit<K extends EventName>(event: K, payload: ChatEvents[K]): void {
    this.events.emit(event, payload);
    this.events.emit('*', { event, payload });
  }
}

/** Messages a read position moved past in one step, at most (the engine keeps as many receipts for a peer away). */
const MAX_READ_REFS = 1000;

/** The msg_ids of the peer's DMs that reading up to `upTo` makes read: from the first unread on. */
function newlyRead(store: SqliteMessageStore, id: ConversationId, upTo = Number.MAX_SAFE_INTEGER, firstUnread = store.conversations().find((r) => r.key === id)?.firstUnread): string[] {
  const refs: string[] = [];
  if (firstUnread === undefined) return refs;
  for (let after = firstUnread - 1; refs.length < MAX_READ_REFS; ) {
    const page = store.page(id, { after, limit: LIMITS.maxHistoryPage });
    for (const m of page.messages) if (m.direction === 'in' && m.seq <= upTo) refs.push(m.msgId);
    const last = page.messages.at(-1);
    if (!page.hasNewer || last === undefined || last.seq >= upTo) break;
    after = last.seq;
  }
  return refs.slice(0, MAX_READ_REFS);
}

function offlinePeer(peerId: string): ChatPeer {
  return {
    peerId,
    name: nameOf(peerId),
    namespace: namespaceOf(peerId),
    state: 'offline',
    direction: undefined,
    address: undefined,
    lastRttMs: undefined,
    avgRttMs: undefined,
    reconnectAttempts: 0,
    nextRetryAt: undefined,
    lastError: undefined,
    pipelined: false,
    security: undefined,
  };
}

/** How long the first-run form waits for the rendezvous server's answer. */
const PROBE_TIMEOUT_MS = 5_000;

const NOT_CONNECTED: ChatError = { code: 'not-connected', detail: 'not connected yet: set up your profile first' };

const ENGINE_ERRORS = {
  invalid: 'invalid-request',
  'not-running': 'not-connected',
  'unknown-peer': 'unknown-peer',
  'own-peer-id': 'own-peer-id',
  'not-waiting': 'not-waiting',
  'too-long': 'message-too-long',
  history: 'history-unavailable',
  'files-unsupported': 'files-unsupported',
  'file-unreadable': 'file-unreadable',
  'folder-unwritable': 'folder-unwritable',
  'transfer-ended': 'transfer-ended',
} as const satisfies Record<EngineErrorCode, ChatErrorCode>;

/** A failed rendezvous request as the UI words it: no answer, a refusal, or not a rendezvous server. */
function rendezvousProblem(err: RendezvousError, server: string): ChatError {
  const detail = err.message;
  if (err.code === 'unreachable' || err.code === 'timeout') return { code: 'rendezvous-unreachable', server, detail };
  if (err.code === 'blocked') return { code: 'rendezvous-blocked', server, seconds: Math.ceil((err.retryAfterMs ?? 0) / 1000), detail };
  if (err.code === 'server') return { code: 'rendezvous-refused', server, detail };
  return { code: 'rendezvous-bad-reply', server, detail };
}

/** Why the engine did not start, as the UI words it; the engine's own text goes in `detail`. */
function startError(err: unknown, profile: Profile): ChatError {
  if (err instanceof ServiceError) return err.info;
  const detail = (err as Error).message;
  if (err instanceof StoreError) return { code: 'history-unavailable', detail };
  const errno = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'EADDRINUSE') return { code: 'port-in-use', port: profile.port, detail };
  if (errno !== undefined) return { code: 'port-unavailable', port: profile.port, detail };
  if (err instanceof EngineCommandError) return { code: err.code === 'history' ? 'history-unavailable' : 'invalid-profile', detail };
  return { code: 'unexpected', detail };
}

const MAX_PREVIEW_BYTES = 8 * 2 ** 20;

/** An image's type from its first bytes: the name and media type a peer sent prove nothing. */
function imageType(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

/** A folder the host's picker gave: an absolute path to a folder we can write in, or a refusal that says why. */
function writableFolder(picked: string): string {
  let folder: string | undefined;
  try {
    folder = validatePatch({ files: { downloadDir: picked } }).files?.downloadDir ?? undefined;
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    throw new ServiceError({ code: 'folder-unwritable', detail: err.message });
  }
  try {
    if (!folder || !statSync(folder).isDirectory()) throw new Error('not a folder');
    accessSync(folder, constants.W_OK);
  } catch (err) {
    throw new ServiceError({ code: 'folder-unwritable', detail: `cannot write in ${picked}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
  return folder;
}

/** Why files cannot go to this peer now, or undefined when they can. */
function fileSupportReason(peerId: string, support: 'yes' | 'legacy' | 'offline'): string | undefined {
  if (support === 'legacy') return `${peerId} uses a PyP2P client without file transfer: only text can be sent to them`;
  if (support === 'offline') return `${peerId} is not connected: files can be offered once they are online`;
  return undefined;
}
