/**
 * The price book: a price per second for each resolution of each model, optionally overridden per mode
 * (e.g. EDIT) and for requests with audio (veo generate_audio). A task's price is
 * rate × billed seconds × number of videos, in micros.
 *
 * Rates are configured in the `prices` section of REELAY_CONFIG; models not configured use the shipped
 * defaults in defaultPrices.ts (documented in docs/pricing.md).
 */
import type { Mode, ModelSpec } from '../models/spec.ts';
import type { OutputPlan } from '../models/output.ts';
import { parseMoney, toDecimal } from './money.ts';
import { DEFAULT_PRICES, type PriceConfig } from './defaultPrices.ts';

/** Rates in micros per second, by resolution in the model's own spelling. */
type Rates = Record<string, number>;

export interface ModelRates {
  perSecond: Rates;
  audio?: Rates;
  modes?: Partial<Record<Mode, Rates>>;
}

export class PriceBook {
  private readonly rates = new Map<string, ModelRates>();

  /** Builds the book for `models`; throws an Error naming the setting when a configured price is invalid. */
  constructor(models: ModelSpec[], configured: Record<string, PriceConfig> = {}) {
    for (const id of Object.keys(configured)) {
      if (!models.some((m) => m.id === id)) throw new Error(`prices.${id}: no such model (served: ${models.map((m) => m.id).join(', ')})`);
    }
    for (const spec of models) {
      const config = configured[spec.id] ?? DEFAULT_PRICES[spec.id];
      if (!config) throw new Error(`prices.${spec.id}: no price configured and no shipped default`);
      this.rates.set(spec.id, compileRates(spec, config, configured[spec.id] ? `prices.${spec.id}` : `default prices of ${spec.id}`));
    }
  }

  ratesOf(model: string): ModelRates {
    const r = this.rates.get(model);
    if (!r) throw new Error(`no prices for ${model}`);
    return r;
  }

  /** Micros per second for this request. */
  ratePerSecond(spec: ModelSpec, mode: Mode, params: Record<string, unknown>, plan: Pick<OutputPlan, 'audio'>): number {
    const r = this.ratesOf(spec.id);
    const resolution = String(params[spec.output.sizing.resolutionField]);
    const table = r.modes?.[mode] ?? (plan.audio && r.audio ? r.audio : r.perSecond);
    return table[resolution] ?? r.perSecond[resolution];
  }

  /** Price in micros of `seconds` billed seconds (already multiplied by the number of videos). */
  price(spec: ModelSpec, mode: Mode, params: Record<string, unknown>, plan: Pick<OutputPlan, 'audio'>, seconds: number): number {
    return Math.round(this.ratePerSecond(spec, mode, params, plan) * seconds);
  }

  /** The model's prices as shown by GET /v1/models (decimals per second). */
  describe(model: string): Record<string, unknown> {
    const r = this.ratesOf(model);
    const dec = (t: Rates) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, toDecimal(v)]));
    return {
      unit: 'per_second',
      per_second: dec(r.perSecond),
      ...(r.audio ? { with_audio_per_second: dec(r.audio) } : {}),
      ...(r.modes ? { per_mode_per_second: Object.fromEntries(Object.entries(r.modes).map(([m, t]) => [m, dec(t!)])) } : {}),
    };
  }
}

function compileRates(spec: ModelSpec, config: PriceConfig, where: string): ModelRates {
  const resField = spec.fields[spec.output.sizing.resolutionField];
  const resolutions = resField && resField.type === 'enum' ? resField.values : [];
  const table = (t: Record<string, unknown>, at: string, complete: boolean): Rates => {
    const out: Rates = {};
    for (const [res, value] of Object.entries(t)) {
      const canonical = resolutions.find((r) => r.toLowerCase() === res.toLowerCase());
      if (!canonical) throw new Error(`${at}.${res}: ${spec.id} has no resolution ${res} (it has ${resolutions.join(', ')})`);
      const micros = parseMoney(value);
      if (micros === undefined || micros < 0) throw new Error(`${at}.${res}: ${JSON.stringify(value)} is not a price (a decimal ≥ 0, at most 6 places)`);
      out[canonical] = micros;
    }
    const missing = resolutions.filter((r) => out[r] === undefined);
    if (complete && missing.length) throw new Error(`${at}: no price for ${missing.join(', ')}`);
    return out;
  };
  const rates: ModelRates = { perSecond: table(config.per_second, `${where}.per_second`, true) };
  if (config.with_audio) rates.audio = table(config.with_audio, `${where}.with_audio`, false);
  if (config.modes) {
    rates.modes = {};
    for (const [mode, t] of Object.entries(config.modes)) {
      if (!spec.modes.some((m) => m.mode === mode)) throw new Error(`${where}.modes.${mode}: ${spec.id} has no ${mode} mode`);
      rates.modes[mode as Mode] = table(t, `${where}.modes.${mode}`, false);
    }
  }
  return rates;
}
