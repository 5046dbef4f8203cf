/**
 * docs/deployment.md names real things: every REELAY_* variable is a setting, every reelay_* metric is one a
 * running gateway exposes at /metrics, every file it links or names exists, and the README links it.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName, settingNames } from '../../src/config/env.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const read = (p: string) => fs.readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const exists = (p: string) => fs.existsSync(new URL(`../../${p}`, import.meta.url));
const doc = read('docs/deployment.md');

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => t?.close());

describe('docs/deployment.md', () => {
  it('is linked from the README', () => {
    expect(read('README.md')).toContain('(docs/deployment.md)');
  });

  it('names only real settings', () => {
    const known = new Set([...settingNames().map(envName), 'REELAY_CONFIG']);
    const named = new Set(doc.match(/\bREELAY_[A-Z0-9_]+/g) ?? []);
    expect(named.size).toBeGreaterThan(10);
    for (const v of named) expect(known.has(v), v).toBe(true);
  });

  it('names only metrics a gateway exposes', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const named = new Set(doc.match(/\breelay_[a-z0-9_]+/g) ?? []);
    expect(named.size).toBeGreaterThan(10);
    for (const m of named) expect(exposed.has(m.replace(/_(bucket|sum|count)$/, '')), m).toBe(true);
  });

  it('links and names files that exist', () => {
    const links = [...doc.matchAll(/\]\(\.\.\/([^)#]+)\)/g)].map((m) => m[1]);
    const named = [...doc.matchAll(/\b((?:src|test|deploy|bench)\/[\w./-]+\.(?:ts|yaml|md))\b/g)].map((m) => m[1]);
    expect(links.length + named.length).toBeGreaterThan(5);
    for (const p of [...links, ...named]) expect(exists(p), p).toBe(true);
  });

  it('names the Redis connections as the code names them', () => {
    const shared = read('src/runtime/shared.ts');
    for (const name of ['reelay-probe', 'reelay-ratelimit', 'reelay-wake']) {
      expect(doc).toContain(`\`${name}\``);
      expect(shared).toContain(`'${name}'`);
    }
  });
});
