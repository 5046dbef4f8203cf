/**
 * The three request paths the benchmark loads one at a time (`--profile`, `--ab`, `--open`): each one's
 * requests for a key and the status a correct answer has. The scenarios of the full run (poll.ts,
 * submit.ts, validation.ts) send the same requests.
 */
import type { LoadRequest } from './lib/load.ts';
import { pollRequests } from './poll.ts';
import { submitRequests } from './submit.ts';
import { validationRequests } from './validation.ts';

export const PATHS = ['poll', 'submit', 'validation'] as const;
export type PathName = (typeof PATHS)[number];

/** `name` as a path, or an error naming the option it came from (`--open`, say) and the choices. */
export function checkPath(name: string, flag: string): PathName {
  if (!(PATHS as readonly string[]).includes(name)) throw new Error(`${flag}=${name}: choose poll, submit or validation`);
  return name as PathName;
}

export function pathLoad(path: PathName, key: string): { requests: LoadRequest[]; expectStatus: number } {
  if (path === 'poll') return { requests: pollRequests(key), expectStatus: 200 };
  if (path === 'submit') return { requests: submitRequests(key), expectStatus: 200 };
  return { requests: validationRequests(key), expectStatus: 400 };
}
