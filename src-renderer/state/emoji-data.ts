// Emoji for the picker and for `:shortcodes:`, from emojibase-data (the data set most pickers are
// built on), bundled with the app as lazily loaded chunks: nothing is fetched from the network,
// and nothing loads until the picker opens or a shortcode is typed.

import type { EmojiData, EmojiDataResolver } from 'frimousse';

interface EmojibaseEmoji {
  label: string;
  emoji: string;
  hexcode: string;
  group?: number;
  subgroup?: number;
  version: number;
  tags?: string[];
  skins?: { emoji: string; tone: number | number[] }[];
}
interface EmojibaseMessages {
  groups: { key: string; message: string; order: number }[];
  subgroups: { key: string; message: string; order: number }[];
  skinTones: { key: string; message: string }[];
}

const TONES = ['light', 'medium-light', 'medium', 'medium-dark', 'dark'] as const;
const capital = (text: string) => text.charAt(0).toLocaleUpperCase() + text.slice(1);

async function emojibase(locale: 'en' | 'pt'): Promise<[EmojibaseEmoji[], EmojibaseMessages]> {
  const [data, messages] =
    locale === 'pt'
      ? await Promise.all([import('emojibase-data/pt/data.json'), import('emojibase-data/pt/messages.json')])
      : await Promise.all([import('emojibase-data/en/data.json'), import('emojibase-data/en/messages.json')]);
  return [data.default as unknown as EmojibaseEmoji[], messages.default as unknown as EmojibaseMessages];
}

/** The picker's data in its own shape, as frimousse builds it from the same files. */
export const resolveEmojiData: EmojiDataResolver = async (locale) => {
  const [emojis, messages] = await emojibase(locale === 'pt' ? 'pt' : 'en');
  const flags = messages.subgroups.find((s) => s.key === 'country-flag' || s.key === 'subdivision-flag');
  const skinTones = Object.fromEntries(messages.skinTones.map((s) => [s.key, capital(s.message)])) as EmojiData['skinTones'];
  return {
    locale,
    categories: messages.groups.filter((g) => g.key !== 'component').map((g) => ({ index: g.order, label: capital(g.message) })),
    skinTones,
    emojis: emojis
      .filter((e) => e.group !== undefined)
      .map((e) => {
        const single = e.skins?.filter((s) => typeof s.tone === 'number');
        return {
          emoji: e.emoji,
          category: e.group!,
          version: e.version,
          label: capital(e.label),
          tags: e.tags ?? [],
          countryFlag: (flags && e.subgroup === flags.order) || undefined,
          skins: single?.length ? (Object.fromEntries(single.map((s) => [TONES[(s.tone as number) - 1], s.emoji])) as EmojiData['emojis'][number]['skins']) : undefined,
        };
      }),
  };
};

let shortcodes: Promise<Map<string, string>> | undefined;

/** `smile` → 😄: GitHub's and Slack's shortcodes (emojibase's `github` set), loaded on first use. */
export function emojiForShortcode(code: string): Promise<string | undefined> {
  shortcodes ??= Promise.all([import('emojibase-data/en/data.json'), import('emojibase-data/en/shortcodes/github.json')]).then(([data, codes]) => {
    const byHex = new Map((data.default as unknown as EmojibaseEmoji[]).map((e) => [e.hexcode, e.emoji]));
    const map = new Map<string, string>();
    for (const [hex, names] of Object.entries(codes.default as unknown as Record<string, string | string[]>)) {
      const emoji = byHex.get(hex);
      if (emoji) for (const name of typeof names === 'string' ? [names] : names) map.set(name, emoji);
    }
    return map;
  });
  return shortcodes.then((map) => map.get(code.toLowerCase()));
}
