/**
 * The reference deployment stays in step with the code: every REELAY_* variable the compose file sets is a
 * real setting, the processes run real commands and roles, and the Dockerfile runs the CLI entry point.
 * (Docker itself does not run on the test machine; this checks what can be checked without it.)
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { envName, settingNames } from '../../src/config/env.ts';
import { loadConfig } from '../../src/config/load.ts';

const read = (p: string) => fs.readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const compose = YAML.parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, { command?: string[]; environment?: Record<string, string> }> };

describe('deploy/', () => {
  it('sets only real settings, and enough of them for multi-process mode', () => {
    const known = new Set([...settingNames().map(envName), 'REELAY_CONFIG']);
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const v of Object.keys(svc.environment ?? {}).filter((k) => k.startsWith('REELAY_'))) expect(known.has(v), `${name}: ${v}`).toBe(true);
    }
    const env = compose.services.api.environment!;
    for (const v of ['REELAY_DATABASE_URL', 'REELAY_REDIS_URL', 'REELAY_S3_BUCKET', 'REELAY_SIGNING_SECRET', 'REELAY_ADMIN_TOKEN', 'REELAY_PUBLIC_URL']) expect(env[v], v).toBeDefined();
  });

  it('runs migrate once, then api and worker roles', () => {
    expect(compose.services.migrate.command).toEqual(['migrate']);
    expect(compose.services.api.command).toEqual(['serve', '--role', 'api']);
    expect(compose.services.worker.command).toEqual(['serve', '--role', 'worker']);
    expect(read('deploy/Dockerfile')).toMatch(/ENTRYPOINT \["node", "bin\/reelay\.js"\]/);
  });

  it('its config file loads', () => {
    const config = loadConfig({ REELAY_CONFIG: new URL('../../deploy/config.yaml', import.meta.url).pathname });
    expect(config.channels).toEqual([]);
  });
});
