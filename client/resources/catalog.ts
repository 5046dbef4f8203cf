/** The read-only lookups: GET /v1/models, GET /v1/model-schema, GET /v1/balance. */
import type { HttpCore } from '../core.ts';
import { unwrap } from '../core.ts';
import type { Balance, ModelInfo } from '../types.ts';

export class Models {
  readonly #core: HttpCore;

  constructor(core: HttpCore) {
    this.#core = core;
  }

  async list(): Promise<ModelInfo[]> {
    const res = await this.#core.request<unknown>({ method: 'GET', path: '/v1/models' });
    const data = unwrap<unknown>(res.body);
    // Accept a bare array, the APIMart envelope, or an OpenAI-style {object: "list", data: [...]}.
    if (Array.isArray(data)) return data as ModelInfo[];
    return ((data as { data?: ModelInfo[] } | undefined)?.data ?? []) as ModelInfo[];
  }

  /** The JSON Schema (draft 2020-12) of the model's request body. */
  async schema(id: string): Promise<Record<string, unknown>> {
    const res = await this.#core.request<unknown>({ method: 'GET', path: '/v1/model-schema', query: { model: id } });
    return unwrap<Record<string, unknown>>(res.body);
  }
}

export class BalanceResource {
  readonly #core: HttpCore;

  constructor(core: HttpCore) {
    this.#core = core;
  }

  async get(): Promise<Balance> {
    const res = await this.#core.request<unknown>({ method: 'GET', path: '/v1/balance' });
    return unwrap<Balance>(res.body);
  }
}
