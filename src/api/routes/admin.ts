/**
 * The admin API (bearer REELAY_ADMIN_TOKEN): keys and their balances, the ledger, usage, webhook deliveries.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../../errors.ts';
import { formatMoney, parseMoney, toDecimal } from '../../billing/money.ts';
import { modelIds } from '../../models/registry.ts';
import type { ApiKeyRecord, LedgerEntry } from '../../store/types.ts';
import { requireAdmin } from '../auth.ts';
import type { AppContext } from '../context.ts';

const money = z.union([z.number(), z.string()]).transform((v, c) => {
  const m = parseMoney(v);
  if (m === undefined) {
    c.addIssue({ code: 'custom', message: 'must be a decimal amount with at most 6 decimal places' });
    return z.NEVER;
  }
  return m;
});
const modelList = z
  .array(z.string())
  .nullable()
  .refine((ms) => !ms || ms.every((m) => modelIds().includes(m)), { message: `every model must be one of ${modelIds().join(', ')}` });

const createKeyBody = z
  .object({
    name: z.string().min(1).max(200),
    balance: money.optional(),
    rate_limit_rpm: z.number().int().positive().nullable().optional(),
    max_concurrent_tasks: z.number().int().positive().nullable().optional(),
    models: modelList.optional(),
  })
  .strict();

const patchKeyBody = createKeyBody.omit({ balance: true }).partial().strict();
const topupBody = z.object({ amount: money, note: z.string().max(500).optional() }).strict();
const adjustBody = z.object({ amount: money, note: z.string().min(1).max(500) }).strict();

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const param = issue.path.join('.') || null;
  const code = issue.code === 'invalid_type' ? 'invalid_type' : issue.code === 'unrecognized_keys' ? 'invalid_request_error' : 'invalid_value';
  throw new ApiError(code, `${param ?? 'body'}: ${issue.message}`, param);
}

export function keyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    object: 'api_key',
    name: k.name,
    prefix: k.prefix,
    balance: toDecimal(k.balanceMicros),
    held: toDecimal(k.heldMicros),
    spent: toDecimal(k.spentMicros),
    rate_limit_rpm: k.rateLimitRpm,
    max_concurrent_tasks: k.maxConcurrentTasks,
    models: k.models,
    webhook_secret: k.webhookSecret,
    created_at: Math.floor(k.createdAt / 1000),
    revoked_at: k.revokedAt === null ? null : Math.floor(k.revokedAt / 1000),
  };
}

function ledgerView(e: LedgerEntry) {
  return {
    id: e.id,
    key_id: e.keyId,
    task_id: e.taskId,
    kind: e.kind,
    amount: toDecimal(e.balanceDelta),
    held_change: toDecimal(e.heldDelta),
    spent_change: toDecimal(e.spentDelta),
    balance_after: toDecimal(e.balanceAfter),
    note: e.note,
    created_at: Math.floor(e.createdAt / 1000),
  };
}

function pageLimit(v: string | undefined): number {
  const n = v === undefined ? 50 : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new ApiError('invalid_query', 'limit must be an integer from 1 to 500.', 'limit');
  return n;
}

export function adminRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.addHook('onRequest', requireAdmin(ctx));

    const mustGet = async (id: string) => {
      const k = await ctx.store.getKey(id);
      if (!k) throw new ApiError('not_found', `No key ${id}.`, 'id');
      return k;
    };

    app.post('/keys', async (req, reply) => {
      const b = parse(createKeyBody, req.body);
      const { record, key } = await ctx.keys.create({
        name: b.name,
        balanceMicros: b.balance ?? 0,
        rateLimitRpm: b.rate_limit_rpm ?? null,
        maxConcurrentTasks: b.max_concurrent_tasks ?? null,
        models: b.models ?? null,
      });
      reply.code(201);
      return { ...keyView(record), key };
    });

    app.get('/keys', async () => ({ object: 'list', data: (await ctx.store.listKeys()).map(keyView) }));

    app.get<{ Params: { id: string } }>('/keys/:id', async (req) => keyView(await mustGet(req.params.id)));

    app.patch<{ Params: { id: string } }>('/keys/:id', async (req) => {
      const b = parse(patchKeyBody, req.body);
      const k = await ctx.store.updateKey(req.params.id, {
        name: b.name,
        rateLimitRpm: b.rate_limit_rpm,
        maxConcurrentTasks: b.max_concurrent_tasks,
        models: b.models,
      });
      if (!k) throw new ApiError('not_found', `No key ${req.params.id}.`, 'id');
      ctx.keys.forget(k.hash);
      return keyView(k);
    });

    app.post<{ Params: { id: string } }>('/keys/:id/topup', async (req) => {
      const b = parse(topupBody, req.body);
      if (b.amount <= 0) throw new ApiError('invalid_value', 'amount must be greater than 0.', 'amount');
      const k = await ctx.store.adjustBalance(req.params.id, b.amount, 'topup', b.note ?? null, Date.now());
      if (!k) throw new ApiError('not_found', `No key ${req.params.id}.`, 'id');
      return keyView(k);
    });

    app.post<{ Params: { id: string } }>('/keys/:id/adjust', async (req) => {
      const b = parse(adjustBody, req.body);
      await mustGet(req.params.id);
      try {
        const k = await ctx.store.adjustBalance(req.params.id, b.amount, 'adjustment', b.note, Date.now());
        return keyView(k!);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'payment_required') {
          throw new ApiError('invalid_value', `An adjustment of ${formatMoney(b.amount)} would take the balance below zero.`, 'amount');
        }
        throw e;
      }
    });

    app.delete<{ Params: { id: string } }>('/keys/:id', async (req) => {
      const k = await ctx.store.revokeKey(req.params.id, Date.now());
      if (!k) throw new ApiError('not_found', `No key ${req.params.id}.`, 'id');
      ctx.keys.forget(k.hash);
      return keyView(k);
    });

    app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit?: string } }>('/keys/:id/ledger', async (req) => {
      await mustGet(req.params.id);
      const page = await ctx.store.listLedger(req.params.id, { cursor: req.query.cursor, limit: pageLimit(req.query.limit) });
      return { object: 'list', data: page.items.map(ledgerView), next_cursor: page.nextCursor };
    });

    app.get<{ Querystring: { task_id?: string; cursor?: string; limit?: string } }>('/ledger', async (req) => {
      const page = await ctx.store.listLedger(null, { taskId: req.query.task_id, cursor: req.query.cursor, limit: pageLimit(req.query.limit) });
      return { object: 'list', data: page.items.map(ledgerView), next_cursor: page.nextCursor };
    });

    app.get<{ Querystring: { key_id?: string; model?: string; from?: string; to?: string } }>('/usage', async (req) => {
      const q = req.query;
      for (const p of ['from', 'to'] as const) {
        if (q[p] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(q[p]!)) throw new ApiError('invalid_query', `${p} must be a day, YYYY-MM-DD.`, p);
      }
      const rows = await ctx.store.usage({ keyId: q.key_id, model: q.model, from: q.from, to: q.to });
      return {
        object: 'list',
        data: rows.map((r) => ({
          key_id: r.keyId,
          model: r.model,
          day: r.day,
          tasks: r.tasks,
          completed: r.completed,
          failed: r.failed,
          cancelled: r.cancelled,
          spent: toDecimal(r.spentMicros),
          billed_seconds: r.billedSeconds,
        })),
      };
    });

    app.get<{ Querystring: { task_id?: string; key_id?: string; limit?: string } }>('/webhooks', async (req) => {
      const rows = await ctx.store.listWebhookDeliveries({ taskId: req.query.task_id, keyId: req.query.key_id, limit: pageLimit(req.query.limit) });
      return { object: 'list', data: rows };
    });
  };
}
