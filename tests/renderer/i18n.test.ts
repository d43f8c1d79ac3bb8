// The two catalogues, walked key by key: every English key has a Portuguese one of the same
// kind, and the Portuguese text is not the English text left in place (a short list of words
// that are the same in both languages aside).

import { describe, expect, it } from 'vitest';
import { strings } from '../../src-renderer/i18n.ts';

/** Identical in both languages on purpose: the product's name, units and protocol terms. */
const SAME_IN_BOTH = new Set(['appName', 'bytes', 'ttlLeft', 'emoji']);

/** What a function entry is called with: an error's parameters for `errors.*`, text otherwise. */
const SAMPLE_ERROR = { port: 19512, server: 'rdv.example:8080', seconds: 30, maxMB: 1024, detail: 'ECONNREFUSED' };

type Leaf = { path: string; value: unknown };

function leaves(table: unknown, prefix = ''): Leaf[] {
  return Object.entries(table as Record<string, unknown>).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return typeof value === 'object' && value !== null ? leaves(value, path) : [{ path, value }];
  });
}

/** Entries whose arguments are not counts or names: sample values of their own kinds. */
const SAMPLE_ARGS: Record<string, unknown[]> = {
  transferState: ['in', 'offered'],
  transferSpeed: [40, '1.5 MB', 90],
};

/** A string entry as it is, a function entry as it reads with sample arguments. */
function text(path: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const fn = value as (...args: unknown[]) => string;
  return path.startsWith('errors.') ? fn(SAMPLE_ERROR) : fn(...(SAMPLE_ARGS[path] ?? [3, 7]));
}

describe('the pt-BR catalogue', () => {
  const en = leaves(strings('en'));
  const pt = new Map(leaves(strings('pt-BR')).map((l) => [l.path, l.value]));

  it('has every key of the English one, of the same kind, and none more', () => {
    const missing = en.filter((l) => !pt.has(l.path)).map((l) => l.path);
    const wrongKind = en.filter((l) => pt.has(l.path) && typeof pt.get(l.path) !== typeof l.value).map((l) => l.path);
    const extra = [...pt.keys()].filter((path) => !en.some((l) => l.path === path));
    expect({ missing, wrongKind, extra }).toEqual({ missing: [], wrongKind: [], extra: [] });
  });

  it('is translated: no entry reads as the English one', () => {
    const untranslated = en.filter((l) => !SAME_IN_BOTH.has(l.path) && pt.has(l.path) && text(l.path, pt.get(l.path)) === text(l.path, l.value)).map((l) => l.path);
    expect(untranslated).toEqual([]);
    for (const l of en) expect(text(l.path, pt.get(l.path)), l.path).not.toBe('');
  });
});
