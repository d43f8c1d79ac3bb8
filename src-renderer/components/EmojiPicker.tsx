// The composer's emoji picker: frimousse (unstyled, keyboard-navigable, virtualized) over the
// emojibase data bundled with the app, in the UI's language, drawn with the system's color emoji
// font or the bundled Noto Emoji. Loaded only when first opened (Composer imports it lazily).

import { EmojiPicker as Picker, type EmojiPickerListCategoryHeaderProps, type EmojiPickerListEmojiProps, type EmojiPickerListRowProps } from 'frimousse';
import { useLocale, useStrings } from '../i18n.ts';
import { resolveEmojiData } from '../state/emoji-data.ts';

function CategoryHeader({ category, ...props }: EmojiPickerListCategoryHeaderProps) {
  return (
    <div {...props} className="bg-white px-3 pt-2 pb-1 text-xs font-medium text-zinc-600 dark:bg-zinc-900 dark:text-zinc-400">
      {category.label}
    </div>
  );
}

function Row({ children, ...props }: EmojiPickerListRowProps) {
  return (
    <div {...props} className="scroll-my-1 px-1">
      {children}
    </div>
  );
}

// frimousse's own font list has no monochrome fallback: ours ends with the bundled Noto Emoji.
const EMOJI_FONTS = '"Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji", "Noto Emoji", sans-serif';

function Emoji({ emoji, style, ...props }: EmojiPickerListEmojiProps) {
  return (
    <button
      {...props}
      aria-label={emoji.label}
      style={{ ...style, fontFamily: EMOJI_FONTS }}
      className="flex size-8 items-center justify-center rounded-md text-xl data-[active]:bg-zinc-100 dark:data-[active]:bg-zinc-800"
    >
      {emoji.emoji}
    </button>
  );
}

export default function EmojiPicker({ onPick }: { onPick: (emoji: string) => void }) {
  const t = useStrings();
  const locale = useLocale();
  return (
    <Picker.Root
      onEmojiSelect={({ emoji }) => onPick(emoji)}
      locale={locale === 'pt-BR' ? 'pt' : 'en'}
      resolveEmojiData={resolveEmojiData}
      columns={9}
      className="isolate flex h-80 w-80 flex-col rounded-xl border border-zinc-200 bg-white shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
      data-testid="emoji-picker"
    >
      <Picker.Search
        autoFocus
        aria-label={t.emojiSearch}
        placeholder={t.emojiSearch}
        className="z-10 mx-2 mt-2 appearance-none rounded-md bg-zinc-100 px-2.5 py-1.5 text-sm outline-none focus:ring-2 focus:ring-sky-500 dark:bg-zinc-800"
      />
      <Picker.Viewport className="relative flex-1 outline-none">
        <Picker.Loading className="absolute inset-0 flex items-center justify-center text-sm text-zinc-500">{t.emojiLoading}</Picker.Loading>
        <Picker.Empty className="absolute inset-0 flex items-center justify-center text-sm text-zinc-500">{t.emojiNone}</Picker.Empty>
        <Picker.List className="pb-1 select-none" components={{ CategoryHeader, Row, Emoji }} />
      </Picker.Viewport>
    </Picker.Root>
  );
}
