// The sidebar's three sections, built from the snapshot: a direct chat per peer and per DM
// conversation, a channel per namespace we have seen, and the broadcast channel.

import {
  BROADCAST,
  conversationKind,
  conversationPeer,
  dmConversation,
  type ChatPeer,
  type ConversationId,
  type ConversationKind,
  type ConversationSummary,
  type Snapshot,
} from '../../src-shared/chat-api.ts';
import type { Strings } from '../i18n.ts';

export interface Channel {
  id: ConversationId;
  kind: ConversationKind;
  title: string;
  unread: number;
  /** Our DMs here still waiting in the outbox. */
  queued: number;
  last: ConversationSummary['last'];
  firstUnread: number | undefined;
  draft: string | undefined;
  /** The other side of a direct chat, when the peer table knows it. */
  peer: ChatPeer | undefined;
}

export interface ChannelSections {
  direct: Channel[];
  namespaces: Channel[];
  broadcast: Channel[];
}

export function ownPeerId(snapshot: Snapshot): string | undefined {
  const profile = snapshot.settings.profile;
  return snapshot.status.peerId ?? (profile && `${profile.name}@${profile.namespace}`);
}

/** The peer_id of a direct chat (verified or not), or the channel's own id (`#ns`, `*`). */
export const titleOf = (id: ConversationId) => conversationPeer(id) ?? id;

/** A chat's name as the user reads it: the unverified one must never pass for the peer's own. */
export function shownTitle(kind: ConversationKind, title: string, t: Strings): string {
  if (kind === 'broadcast') return t.broadcastTitle;
  return kind === 'unverified' ? t.secure.unverifiedTitle(title) : title;
}

/** Most recent first; quiet channels alphabetically after them. */
const byActivity = (a: Channel, b: Channel) => (b.last?.at ?? 0) - (a.last?.at ?? 0) || a.title.localeCompare(b.title);

export function channelSections(snapshot: Snapshot, filter: string): ChannelSections {
  const summaries = new Map(snapshot.conversations.map((c) => [c.id, c]));
  const peers = new Map(snapshot.peers.map((p) => [p.peerId, p]));
  const own = ownPeerId(snapshot);
  const ids = new Set<ConversationId>([BROADCAST]);
  for (const c of snapshot.conversations) ids.add(c.id);
  for (const p of snapshot.peers) if (p.peerId !== own) ids.add(dmConversation(p.peerId)).add(`#${p.namespace}`);
  if (snapshot.settings.profile) ids.add(`#${snapshot.settings.profile.namespace}`);

  const needle = filter.trim().toLowerCase();
  const sections: ChannelSections = { direct: [], namespaces: [], broadcast: [] };
  for (const id of ids) {
    const kind = conversationKind(id);
    const title = titleOf(id);
    if (needle && !title.toLowerCase().includes(needle)) continue;
    const summary = summaries.get(id);
    const channel = {
      id,
      kind,
      title,
      unread: summary?.unread ?? 0,
      queued: summary?.queued ?? 0,
      last: summary?.last,
      firstUnread: summary?.firstUnread,
      draft: summary?.draft,
      peer: kind === 'dm' ? peers.get(title) : undefined,
    };
    ({ dm: sections.direct, unverified: sections.direct, namespace: sections.namespaces, broadcast: sections.broadcast })[kind].push(channel);
  }
  sections.direct.sort(byActivity);
  sections.namespaces.sort((a, b) => a.title.localeCompare(b.title));
  return sections;
}

/** Every channel in the order the sidebar shows them, for Alt+Up/Down. */
export const channelOrder = (s: ChannelSections): Channel[] => [...s.direct, ...s.namespaces, ...s.broadcast];

/** The channel for an id, even one the lists do not hold (a host's open-conversation request). */
export function channelById(sections: ChannelSections, id: ConversationId): Channel {
  const kind = conversationKind(id);
  return channelOrder(sections).find((c) => c.id === id) ?? { id, kind, title: titleOf(id), unread: 0, queued: 0, last: undefined, firstUnread: undefined, draft: undefined, peer: undefined };
}
