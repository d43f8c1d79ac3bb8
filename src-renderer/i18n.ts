// Every string the user sees, in English and Brazilian Portuguese. The English table defines the
// shape; the Portuguese one must match it key for key, so a missing translation fails to compile.

import { createContext, useContext } from 'react';
import type { ChatPeerState, Language, RegistrationView } from '../src-shared/chat-api.ts';

export type Locale = 'en' | 'pt-BR';

const number = (locale: Locale, value: number, digits = 0) =>
  value.toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits });

const en = {
  appName: 'ChatP2P',
  loading: 'Connecting to ChatP2P…',
  disconnected: 'Disconnected from the ChatP2P host. Reconnecting…',
  loadFailed: (error: string) => `Could not load ChatP2P: ${error}`,

  // Profile form
  welcomeTitle: 'Welcome to ChatP2P',
  welcomeIntro: 'Choose how other peers will see you. You can change this later in Settings.',
  changeProfileTitle: 'Change profile',
  changeProfileIntro: 'The app leaves the network (BYE and UNREGISTER) and joins again with the new profile.',
  name: 'Name',
  nameHint: 'Unique inside the namespace, e.g. alice',
  namespace: 'Namespace',
  namespaceHint: 'The room you join, e.g. CIC',
  listenPort: 'Port',
  listenPortHint: 'TCP port peers dial you on; 0 picks a free one',
  ttl: 'TTL (seconds)',
  ttlHint: 'How long the server keeps your record between renewals',
  rendezvousServer: 'Rendezvous server',
  presetLocal: 'This computer',
  presetLocalHint: 'Runs a rendezvous server inside the app',
  presetUnb: 'UnB class server',
  presetCustom: 'Another server',
  presetCustomHint: 'host:port',
  serverAddress: 'Server address',
  serverPort: 'Server port',
  join: 'Join the network',
  joining: 'Joining…',
  save: 'Save',
  cancel: 'Cancel',
  errIdentityLength: (field: string) => `${field} must be 1 to 64 characters.`,
  errIdentityChars: (field: string) => `${field} cannot contain spaces, '@' or control characters.`,
  errPort: (min: number) => `Enter a whole number from ${min} to 65535.`,
  errTtl: 'Enter a whole number of seconds from 1 to 86400.',
  errAddress: 'Enter host:port, e.g. 192.168.0.10:8080.',

  // Sidebar
  filterPlaceholder: 'Search chats and peers',
  filterLabel: 'Filter chats and peers',
  chats: 'Chats',
  directChats: 'Direct chats',
  namespaces: 'Namespaces',
  broadcast: 'Broadcast',
  broadcastTitle: 'Everyone',
  noMatches: 'Nothing matches the filter.',
  noDirectChats: 'No peers yet.',
  unreadBadge: (n: number) => `${n} unread`,
  you: 'You',
  settings: 'Settings',
  logs: 'Logs',

  // Peers
  peers: 'Peers',
  discover: 'Discover',
  discoverLabel: 'Ask the rendezvous server for peers now',
  noPeers: 'No peers found yet. They appear here once they register with the same server.',
  reconnect: 'Reconnect',
  reconnectLabel: (peerId: string) => `Reconnect ${peerId}`,
  peerState: {
    open: 'open',
    connecting: 'connecting',
    stale: 'stale',
    closed: 'not connected',
    failed: 'failed',
    offline: 'offline',
  } satisfies Record<ChatPeerState, string>,
  inbound: 'inbound',
  outbound: 'outbound',
  rtt: (ms: number) => `RTT ${number('en', ms, ms < 10 ? 1 : 0)} ms`,
  retryIn: (seconds: number) => `retry in ${seconds} s`,

  // Conversation
  pickChat: 'Pick a chat on the left, or a peer to start one.',
  namespaceSubtitle: (n: number) => (n === 1 ? 'Namespace channel · 1 peer connected' : `Namespace channel · ${n} peers connected`),
  broadcastSubtitle: (n: number) => (n === 1 ? 'Every connected peer · 1 now' : `Every connected peer · ${n} now`),
  emptyConversation: 'No messages yet. Say hi!',
  messages: 'Messages',
  sending: 'Sending…',
  delivered: 'Delivered',
  failed: 'Not delivered',
  retry: 'Retry',
  sentTo: (n: number) => (n === 1 ? 'Sent to 1 peer' : `Sent to ${n} peers`),
  spoofed: (claimed: string) => `claimed to be ${claimed}`,

  // Composer
  composerLabel: 'Message',
  composerPlaceholderDm: (peer: string) => `Message ${peer}`,
  composerPlaceholderChannel: (channel: string) => `Message ${channel}`,
  send: 'Send',
  bytes: (used: number, max: number) => `${number('en', used)} / ${number('en', max)} bytes`,
  tooLong: (used: number, max: number) =>
    `Too long: ${number('en', used)} bytes, the limit is ${number('en', max)}. Shorten the message or split it in parts.`,
  emptyHint: 'Type a message first.',
  composerHelp: 'Enter sends · Shift+Enter adds a line',

  // Status bar
  registration: {
    unregistered: 'Not registered',
    registering: 'Registering…',
    registered: 'Registered',
    unreachable: 'Server unreachable',
    blocked: 'Blocked by the server',
    refused: 'Refused by the server',
  } satisfies Record<RegistrationView['state'], string>,
  ttlLeft: (left: string) => `TTL ${left}`,
  server: (address: string) => `Server ${address}`,
  localServer: (address: string) => `Local server ${address}`,
  openConnections: (n: number) => (n === 1 ? '1 connection' : `${n} connections`),
  avgRtt: (ms: number) => `Avg RTT ${number('en', ms, ms < 10 ? 1 : 0)} ms`,
  notRunning: 'Not connected to the network',
  youAre: (peerId: string) => `You are ${peerId}`,

  // Logs
  logTitle: 'Logs',
  logLevel: 'Log level',
  noLogs: 'No log lines yet.',
  close: 'Close',

  // Settings
  appearance: 'Appearance',
  theme: 'Theme',
  themeSystem: 'System',
  themeLight: 'Light',
  themeDark: 'Dark',
  language: 'Language',
  languageSystem: 'System',
  notifications: 'Notifications',
  notifyDms: 'Notify me of direct messages',
  notifyChannels: 'Also notify for these channels',
  tray: 'Keep running in the tray when the window is closed',
  network: 'Network',
  connectionPolicy: 'Connect to',
  policyAll: 'Every discovered peer',
  policyNamespace: 'Only peers of my namespace (and those I message)',
  timers: 'Timers',
  ackTimeout: 'ACK timeout (s)',
  pingInterval: 'PING interval (s)',
  discoverInterval: 'DISCOVER interval (s)',
  maxReconnects: 'Reconnect attempts',
  errSeconds: 'Enter a whole number of seconds, 1 or more.',
  errWholeNumber: 'Enter a whole number, 0 or more.',
  saveTimers: 'Save timers',
  saved: 'Saved',
  profile: 'Profile',
  profileSummary: (peerId: string, server: string) => `${peerId} on ${server}`,
  changeProfile: 'Change profile',
  shortcuts: 'Keyboard shortcuts',
  shortcutFilter: 'Search chats and peers',
  shortcutComposer: 'Write a message',
  shortcutPrevNext: 'Previous / next chat',
  shortcutSend: 'Send the message',
  shortcutNewline: 'New line in the message',
  back: 'Back to chats',
};

export type Strings = typeof en;

const pt = (value: number, digits = 0) => number('pt-BR', value, digits);

const ptBR: Strings = {
  appName: 'ChatP2P',
  loading: 'Conectando ao ChatP2P…',
  disconnected: 'Sem conexão com o host do ChatP2P. Reconectando…',
  loadFailed: (error) => `Não foi possível carregar o ChatP2P: ${error}`,

  welcomeTitle: 'Boas-vindas ao ChatP2P',
  welcomeIntro: 'Escolha como os outros peers vão ver você. Dá para mudar depois em Configurações.',
  changeProfileTitle: 'Trocar perfil',
  changeProfileIntro: 'O app sai da rede (BYE e UNREGISTER) e entra de novo com o novo perfil.',
  name: 'Nome',
  nameHint: 'Único dentro do namespace, ex.: alice',
  namespace: 'Namespace',
  namespaceHint: 'A sala em que você entra, ex.: CIC',
  listenPort: 'Porta',
  listenPortHint: 'Porta TCP em que os peers conectam em você; 0 escolhe uma livre',
  ttl: 'TTL (segundos)',
  ttlHint: 'Por quanto tempo o servidor guarda seu registro entre renovações',
  rendezvousServer: 'Servidor de rendezvous',
  presetLocal: 'Este computador',
  presetLocalHint: 'Roda um servidor de rendezvous dentro do app',
  presetUnb: 'Servidor da turma (UnB)',
  presetCustom: 'Outro servidor',
  presetCustomHint: 'host:porta',
  serverAddress: 'Endereço do servidor',
  serverPort: 'Porta do servidor',
  join: 'Entrar na rede',
  joining: 'Entrando…',
  save: 'Salvar',
  cancel: 'Cancelar',
  errIdentityLength: (field) => `${field} precisa ter de 1 a 64 caracteres.`,
  errIdentityChars: (field) => `${field} não pode ter espaços, '@' nem caracteres de controle.`,
  errPort: (min) => `Digite um número inteiro de ${min} a 65535.`,
  errTtl: 'Digite um número inteiro de segundos, de 1 a 86400.',
  errAddress: 'Digite host:porta, ex.: 192.168.0.10:8080.',

  filterPlaceholder: 'Buscar conversas e peers',
  filterLabel: 'Filtrar conversas e peers',
  chats: 'Conversas',
  directChats: 'Conversas diretas',
  namespaces: 'Namespaces',
  broadcast: 'Broadcast',
  broadcastTitle: 'Todos',
  noMatches: 'Nada corresponde ao filtro.',
  noDirectChats: 'Nenhum peer ainda.',
  unreadBadge: (n) => (n === 1 ? '1 não lida' : `${n} não lidas`),
  you: 'Você',
  settings: 'Configurações',
  logs: 'Logs',

  peers: 'Peers',
  discover: 'Descobrir',
  discoverLabel: 'Pedir a lista de peers ao servidor de rendezvous agora',
  noPeers: 'Nenhum peer encontrado ainda. Eles aparecem aqui quando se registram no mesmo servidor.',
  reconnect: 'Reconectar',
  reconnectLabel: (peerId) => `Reconectar ${peerId}`,
  peerState: {
    open: 'conectado',
    connecting: 'conectando',
    stale: 'sem resposta',
    closed: 'desconectado',
    failed: 'falhou',
    offline: 'offline',
  },
  inbound: 'entrada',
  outbound: 'saída',
  rtt: (ms) => `RTT ${pt(ms, ms < 10 ? 1 : 0)} ms`,
  retryIn: (seconds) => `nova tentativa em ${seconds} s`,

  pickChat: 'Escolha uma conversa à esquerda, ou um peer para começar uma.',
  namespaceSubtitle: (n) => (n === 1 ? 'Canal do namespace · 1 peer conectado' : `Canal do namespace · ${n} peers conectados`),
  broadcastSubtitle: (n) => (n === 1 ? 'Todos os peers conectados · 1 agora' : `Todos os peers conectados · ${n} agora`),
  emptyConversation: 'Nenhuma mensagem ainda. Diga oi!',
  messages: 'Mensagens',
  sending: 'Enviando…',
  delivered: 'Entregue',
  failed: 'Não entregue',
  retry: 'Tentar de novo',
  sentTo: (n) => (n === 1 ? 'Enviada para 1 peer' : `Enviada para ${n} peers`),
  spoofed: (claimed) => `disse ser ${claimed}`,

  composerLabel: 'Mensagem',
  composerPlaceholderDm: (peer) => `Mensagem para ${peer}`,
  composerPlaceholderChannel: (channel) => `Mensagem para ${channel}`,
  send: 'Enviar',
  bytes: (used, max) => `${pt(used)} / ${pt(max)} bytes`,
  tooLong: (used, max) => `Longa demais: ${pt(used)} bytes, o limite é ${pt(max)}. Encurte a mensagem ou divida em partes.`,
  emptyHint: 'Digite uma mensagem primeiro.',
  composerHelp: 'Enter envia · Shift+Enter pula linha',

  registration: {
    unregistered: 'Não registrado',
    registering: 'Registrando…',
    registered: 'Registrado',
    unreachable: 'Servidor inacessível',
    blocked: 'Bloqueado pelo servidor',
    refused: 'Recusado pelo servidor',
  },
  ttlLeft: (left) => `TTL ${left}`,
  server: (address) => `Servidor ${address}`,
  localServer: (address) => `Servidor local ${address}`,
  openConnections: (n) => (n === 1 ? '1 conexão' : `${n} conexões`),
  avgRtt: (ms) => `RTT médio ${pt(ms, ms < 10 ? 1 : 0)} ms`,
  notRunning: 'Fora da rede',
  youAre: (peerId) => `Você é ${peerId}`,

  logTitle: 'Logs',
  logLevel: 'Nível de log',
  noLogs: 'Nenhuma linha de log ainda.',
  close: 'Fechar',

  appearance: 'Aparência',
  theme: 'Tema',
  themeSystem: 'Do sistema',
  themeLight: 'Claro',
  themeDark: 'Escuro',
  language: 'Idioma',
  languageSystem: 'Do sistema',
  notifications: 'Notificações',
  notifyDms: 'Avisar quando chegar mensagem direta',
  notifyChannels: 'Avisar também nestes canais',
  tray: 'Continuar na bandeja do sistema ao fechar a janela',
  network: 'Rede',
  connectionPolicy: 'Conectar a',
  policyAll: 'Todos os peers descobertos',
  policyNamespace: 'Só peers do meu namespace (e os que eu chamar)',
  timers: 'Temporizadores',
  ackTimeout: 'Espera pelo ACK (s)',
  pingInterval: 'Intervalo do PING (s)',
  discoverInterval: 'Intervalo do DISCOVER (s)',
  maxReconnects: 'Tentativas de reconexão',
  errSeconds: 'Digite um número inteiro de segundos, 1 ou mais.',
  errWholeNumber: 'Digite um número inteiro, 0 ou mais.',
  saveTimers: 'Salvar temporizadores',
  saved: 'Salvo',
  profile: 'Perfil',
  profileSummary: (peerId, server) => `${peerId} em ${server}`,
  changeProfile: 'Trocar perfil',
  shortcuts: 'Atalhos de teclado',
  shortcutFilter: 'Buscar conversas e peers',
  shortcutComposer: 'Escrever uma mensagem',
  shortcutPrevNext: 'Conversa anterior / próxima',
  shortcutSend: 'Enviar a mensagem',
  shortcutNewline: 'Nova linha na mensagem',
  back: 'Voltar às conversas',
};

const TABLES: Record<Locale, Strings> = { en, 'pt-BR': ptBR };

/** The setting wins; 'system' follows the browser's language. */
export function resolveLocale(language: Language | undefined, systemLanguage: string): Locale {
  if (language === 'en' || language === 'pt-BR') return language;
  return systemLanguage.toLowerCase().startsWith('pt') ? 'pt-BR' : 'en';
}

export const strings = (locale: Locale): Strings => TABLES[locale];

export const LocaleContext = createContext<Locale>('en');

export function useLocale(): Locale {
  return useContext(LocaleContext);
}

export function useStrings(): Strings {
  return strings(useLocale());
}
