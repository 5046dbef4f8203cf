/**
 * The child side of proc.ts: report ready with some facts (a URL), then answer commands from the
 * orchestrator. `close` runs the child's cleanup and exits 0.
 */
type Handler = (args: any) => unknown;

export function serveCommands(ready: unknown, handlers: Record<string, Handler>, cleanup: () => Promise<void> | void = () => undefined): void {
  process.on('message', (m: { id: number; cmd: string; args: unknown }) => {
    void (async () => {
      if (m.cmd === 'close') {
        await cleanup();
        process.exit(0);
      }
      const h = handlers[m.cmd];
      try {
        if (!h) throw new Error(`unknown command ${m.cmd}`);
        process.send!({ id: m.id, result: await h(m.args) });
      } catch (e) {
        process.send!({ id: m.id, error: e instanceof Error ? e.stack ?? e.message : String(e) });
      }
    })();
  });
  // The orchestrator died: do not linger.
  process.on('disconnect', () => void Promise.resolve(cleanup()).finally(() => process.exit(0)));
  process.send!({ ready });
}
