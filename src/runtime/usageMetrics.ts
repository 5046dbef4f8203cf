/**
 * Spend and usage per key and model as Prometheus gauges, the same figures GET /admin/usage gives:
 * all-time totals per (key, model); per-day figures are `increase(...[1d])` in Prometheus. The store is
 * read at most every 30 s, however often Prometheus scrapes.
 */
import { toDecimal } from '../billing/money.ts';
import type { Store, UsageRow } from '../store/types.ts';
import type { Metrics } from './metrics.ts';

const FRESH_MS = 30_000;

export function registerUsageMetrics(metrics: Metrics, store: Store): void {
  let cache: { at: number; rows: Map<string, { keyId: string; model: string; total: UsageRow }> } | null = null;
  const totals = async () => {
    if (cache && Date.now() - cache.at < FRESH_MS) return cache.rows;
    const rows = new Map<string, { keyId: string; model: string; total: UsageRow }>();
    for (const r of await store.usage({})) {
      const id = `${r.keyId}\u0000${r.model}`;
      const t = rows.get(id)?.total;
      if (!t) rows.set(id, { keyId: r.keyId, model: r.model, total: { ...r } });
      else {
        t.tasks += r.tasks;
        t.completed += r.completed;
        t.failed += r.failed;
        t.cancelled += r.cancelled;
        t.spentMicros += r.spentMicros;
        t.billedSeconds += r.billedSeconds;
      }
    }
    cache = { at: Date.now(), rows };
    return rows;
  };
  metrics.gauge('reelay_usage_spent', 'Money settled for completed tasks, per key and model (currency units).', ['key_id', 'model'], async (set) => {
    for (const { keyId, model, total } of (await totals()).values()) set({ key_id: keyId, model }, toDecimal(total.spentMicros));
  });
  metrics.gauge('reelay_usage_billed_seconds', 'Seconds of video billed, per key and model.', ['key_id', 'model'], async (set) => {
    for (const { keyId, model, total } of (await totals()).values()) set({ key_id: keyId, model }, total.billedSeconds);
  });
  metrics.gauge('reelay_usage_tasks', 'Tasks per key, model and final status (unfinished = not yet terminal).', ['key_id', 'model', 'status'], async (set) => {
    for (const { keyId, model, total } of (await totals()).values()) {
      set({ key_id: keyId, model, status: 'completed' }, total.completed);
      set({ key_id: keyId, model, status: 'failed' }, total.failed);
      set({ key_id: keyId, model, status: 'cancelled' }, total.cancelled);
      set({ key_id: keyId, model, status: 'unfinished' }, total.tasks - total.completed - total.failed - total.cancelled);
    }
  });
}
