/**
 * The docs say what the code does: every setting and its environment name is in docs/configuration.md,
 * every error code in docs/errors.md, every shipped default price in docs/pricing.md, and the README opens
 * with the two commands.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envName, settingNames } from '../../src/config/env.ts';
import { ERROR_CATALOGUE } from '../../src/errors.ts';
import { DEFAULT_PRICES } from '../../src/billing/defaultPrices.ts';
import { parseMoney } from '../../src/billing/money.ts';

const read = (p: string) => fs.readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('docs match the code', () => {
  it('README opens with the serve and test commands', () => {
    const head = read('README.md').split('\n').slice(0, 6).join('\n');
    expect(head).toContain('npm ci && npm start');
    expect(head).toContain('npm ci && npm test');
  });

  it('configuration.md lists every setting with its environment name', () => {
    const doc = read('docs/configuration.md');
    for (const s of settingNames()) {
      expect(doc, s).toContain(`\`${s}\``);
      expect(doc, envName(s)).toContain(`\`${envName(s)}\``);
    }
  });

  it('errors.md lists every error code with its status and type', () => {
    const doc = read('docs/errors.md');
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) expect(doc).toContain(`| \`${code}\` | ${e.status} | \`${e.type}\` |`);
  });

  it('pricing.md shows every shipped default price', () => {
    const rows = read('docs/pricing.md')
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| model') && !l.startsWith('| ---'))
      .map((l) => l.split('|').map((c) => c.trim()));
    for (const [model, config] of Object.entries(DEFAULT_PRICES)) {
      for (const [res, rate] of Object.entries(config.per_second)) {
        const row = rows.find((r) => r[1] === model && r[2] === res);
        expect(row, `${model} ${res}`).toBeDefined();
        expect(parseMoney(row![3])).toBe(parseMoney(rate));
        const audio = config.with_audio?.[res];
        expect(row![4] === '' ? undefined : parseMoney(row![4])).toBe(audio === undefined ? undefined : parseMoney(audio));
      }
    }
    const listed = rows.filter((r) => DEFAULT_PRICES[r[1]]).length;
    expect(listed).toBe(Object.values(DEFAULT_PRICES).reduce((n, c) => n + Object.keys(c.per_second).length, 0));
  });
});
