// Every screen a user meets, in both languages and both themes: axe-core finds no serious or
// critical problem (colour contrast included), and the Portuguese screens show no English from
// the catalogue nor any of the engine's raw English texts.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { strings, type Locale } from '../../src-renderer/i18n.ts';
import { startEngine } from '../helpers/peers.ts';
import { silentPort } from '../helpers/rendezvous.ts';
import { FAST_TIMERS, accessibilityProblems, customProfile, seedHistory, startAppHost, useSuite } from './harness.ts';

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  seed: (dataDir) =>
    seedHistory(dataDir, 'alice@CIC', (store) => {
      const at = Date.now() - 600_000;
      store.addIncoming({ msgId: 'bob-1', kind: 'dm', from: 'bob@CIC', to: 'alice@CIC', text: 'Oi Alice, tudo bem?', receivedAt: at, sentAt: at, claimedSrc: undefined });
      store.addOutgoing({ seq: 0, msgId: 'alice-1', kind: 'dm', to: 'bob@CIC', text: 'Tudo ótimo, e você?', state: 'delivered', attempts: 1, createdAt: at + 1000, error: undefined, recipients: undefined }, 'alice@CIC');
      store.addOutgoing({ seq: 0, msgId: 'alice-2', kind: 'dm', to: 'dave@CIC', text: 'Dave, chegou?', state: 'queued', attempts: 0, createdAt: at + 2000, error: undefined, recipients: undefined }, 'alice@CIC');
    }),
  before: async ({ rendezvous }) => void (await startEngine(rendezvous.port, 'bob', 'CIC')),
});

type Leaf = [path: string, value: unknown];
const leaves = (table: object, prefix = ''): Leaf[] =>
  Object.entries(table).flatMap(([key, value]): Leaf[] => (typeof value === 'object' && value !== null ? leaves(value as object, `${prefix}${key}.`) : [[`${prefix}${key}`, value]]));

/** Every English text of the catalogue that Portuguese says otherwise, and the engine's own words. */
const ENGLISH = (() => {
  const pt = new Map(leaves(strings('pt-BR')));
  const catalogue = leaves(strings('en')).flatMap(([path, value]) => (typeof value === 'string' && value !== pt.get(path) ? [value] : []));
  const engine = ['shutting down', 'is unreachable', 'no longer registered', 'not registered', 'ECONNREFUSED', 'peer_not_registered', 'already in use', 'discover failed', 'inbound', 'outbound', 'Disconnected from'];
  return [...new Set([...catalogue, ...engine])];
})();

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ENGLISH_PATTERNS = ENGLISH.map((text) => ({ text, pattern: new RegExp(`(^|[^\\p{L}])${escape(text)}($|[^\\p{L}])`, 'u') }));

/**
 * What a sighted or screen-reader user gets: the rendered text, labels, placeholders, the title;
 * less what is marked lang="en" (the engine's log and raw error texts, English by nature).
 */
async function readable(page: Page): Promise<string> {
  return page.evaluate<string>(`[
    document.title,
    [...document.querySelectorAll('[lang="en"]')].reduce((text, e) => text.replace(e.innerText, ''), document.body.innerText),
    ...[...document.querySelectorAll('[aria-label], [placeholder], option')].map((e) => [e.getAttribute('aria-label'), e.getAttribute('placeholder'), e.tagName === 'OPTION' ? e.textContent : null].filter(Boolean).join('\\n')),
  ].join('\\n')`);
}

async function englishOn(page: Page): Promise<string[]> {
  const text = await readable(page);
  return ENGLISH_PATTERNS.filter(({ pattern }) => pattern.test(text)).map(({ text: english }) => `English "${english}"`);
}

const COMBOS: [Locale, 'light' | 'dark'][] = [
  ['en', 'light'],
  ['en', 'dark'],
  ['pt-BR', 'light'],
  ['pt-BR', 'dark'],
];

describe('every screen', () => {
  for (const [locale, theme] of COMBOS) {
    test(`${locale}, ${theme}: axe finds nothing serious${locale === 'pt-BR' ? ', and no English shows' : ''}`, async () => {
      const t = strings(locale);
      const problems: string[] = [];
      const check = async (page: Page, screen: string) => {
        const found = [...(await accessibilityProblems(page)), ...(locale === 'pt-BR' ? await englishOn(page) : [])];
        problems.push(...found.map((p) => `${screen}: ${p}`));
      };

      const page = await suite.open({ locale, colorScheme: theme });
      await page.getByTestId('own-peer-id').waitFor();
      await page.getByTestId('peer-bob@CIC').and(page.locator('[data-state="open"]')).waitFor();
      await check(page, 'messenger');

      await page.getByTestId('channel-dm:bob@CIC').click();
      await page.getByTestId('message').filter({ hasText: 'Tudo ótimo' }).waitFor();
      await check(page, 'conversation');

      await page.getByTestId('channel-dm:dave@CIC').click();
      await page.getByTestId('waiting-reason').waitFor();
      await check(page, 'outbox');

      await page.getByRole('button', { name: t.conversationActions }).click();
      await page.getByRole('menu').waitFor();
      await check(page, 'conversation menu');
      await page.getByRole('menuitem', { name: t.deleteConversation }).click();
      await page.getByRole('alertdialog').waitFor();
      await check(page, 'delete dialog');
      await page.keyboard.press('Escape');
      await page.getByRole('alertdialog').waitFor({ state: 'detached' });

      await page.getByRole('searchbox', { name: t.searchLabel }).fill('tudo');
      await page.getByRole('region', { name: t.searchResults }).getByTestId('search-result').first().waitFor();
      await check(page, 'search results');
      await page.getByRole('searchbox', { name: t.searchLabel }).fill('');

      await page.getByRole('button', { name: t.logs }).click();
      await page.getByRole('region', { name: t.logTitle }).waitFor();
      await check(page, 'logs');
      await page.getByRole('button', { name: t.logs }).click();

      await page.keyboard.press('Control+/');
      await page.getByRole('dialog', { name: t.shortcuts }).waitFor();
      await check(page, 'shortcuts sheet');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog', { name: t.shortcuts }).waitFor({ state: 'detached' });

      await page.getByRole('button', { name: t.settings }).click();
      await page.getByRole('heading', { name: t.settings }).waitFor();
      await check(page, 'settings');
      await page.getByRole('button', { name: t.changeProfile }).click();
      await page.getByRole('form', { name: t.changeProfileTitle }).waitFor();
      await check(page, 'change profile');

      // A first run, on a host of its own: the form with its errors, then a server that does not answer.
      const first = await startAppHost(suite.rendererDir, await mkdtemp(join(tmpdir(), 'chatp2p-e2e-first-')));
      try {
        const form = await suite.open({ locale, colorScheme: theme }, first.host.url);
        await form.getByRole('heading', { name: t.welcomeTitle }).waitFor();
        await check(form, 'first run');
        await form.getByRole('button', { name: t.join }).click();
        await form.getByText(t.errIdentityLength(t.name)).waitFor();
        await check(form, 'first run with errors');
        await form.getByLabel(t.name, { exact: true }).fill('carol');
        await form.getByLabel(t.namespace, { exact: true }).fill('CIC');
        await form.getByRole('radio', { name: new RegExp(t.presetCustom) }).check();
        await form.getByLabel(t.serverAddress).fill(`127.0.0.1:${await silentPort()}`);
        await form.getByRole('button', { name: t.join }).click();
        await form.getByRole('button', { name: t.joinAnyway }).waitFor();
        await check(form, 'first run, server silent');
        await form.getByRole('button', { name: t.joinAnyway }).click();
        await form.getByTestId('reach-banner').waitFor();
        await check(form, 'server unreachable');
      } finally {
        await first.stop();
      }

      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});
