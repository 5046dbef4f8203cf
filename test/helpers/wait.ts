/** Waiting in tests for something another process or connection does. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Checks `cond` every `everyMs` until it holds; fails, naming `what`, once `ms` have passed. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, o: { ms: number; everyMs: number }): Promise<void> {
  const until = Date.now() + o.ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(o.everyMs);
  }
}
