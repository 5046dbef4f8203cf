/**
 * Shipped default prices, in currency units per second of video, per resolution. They are placeholders of
 * the right order of magnitude, not any upstream's list price: operators set their own in REELAY_CONFIG.
 * docs/pricing.md lists them; a test keeps the two in step.
 */
export interface PriceConfig {
  per_second: Record<string, number | string>;
  /** Rates when the request yields audio (veo generate_audio=true). */
  with_audio?: Record<string, number | string>;
  /** Rates for one mode, e.g. EDIT. */
  modes?: Record<string, Record<string, number | string>>;
}

export const DEFAULT_PRICES: Record<string, PriceConfig> = {
  'happyhorse-1.0': { per_second: { '720P': 0.1, '1080P': 0.15 } },
  'wan2.5-preview': { per_second: { '480p': 0.05, '720p': 0.1, '1080p': 0.15 } },
  'Omni-Flash-Ext': { per_second: { '720p': 0.05, '1080p': 0.08, '4k': 0.15 } },
  viduq3: { per_second: { '540p': 0.05, '720p': 0.08, '1080p': 0.12 } },
  'viduq3-mix': { per_second: { '720p': 0.1, '1080p': 0.15 } },
  'veo3.1-fast-official': {
    per_second: { '720p': 0.1, '1080p': 0.12, '4K': 0.3 },
    with_audio: { '720p': 0.15, '1080p': 0.18, '4K': 0.4 },
  },
  'veo3.1-quality-official': {
    per_second: { '720p': 0.2, '1080p': 0.25, '4K': 0.5 },
    with_audio: { '720p': 0.4, '1080p': 0.45, '4K': 0.7 },
  },
};
