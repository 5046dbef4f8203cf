/**
 * The admin token: REELAY_ADMIN_TOKEN when set; otherwise generated on first start, saved in the data dir
 * (mode 0600) and printed once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ReelayConfig } from '../config/schema.ts';

export async function ensureAdminToken(config: ReelayConfig, announce: (line: string) => void): Promise<string> {
  if (config.admin_token) return config.admin_token;
  const file = path.join(config.data_dir, 'admin-token');
  try {
    return (await fs.promises.readFile(file, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = `adm_${crypto.randomBytes(32).toString('base64url')}`;
  try {
    await fs.promises.writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return (await fs.promises.readFile(file, 'utf8')).trim();
    throw e;
  }
  announce(`reelay: generated an admin token (saved in ${file}; shown only now):\n  ${token}`);
  return token;
}
