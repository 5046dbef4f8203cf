/**
 * Which Google model serves each reelay Veo model, per API. A channel's model_map overrides an entry
 * (StartRequest.upstreamModel), e.g. to move to a newer release without a code change.
 *
 * - Gemini API: veo-3.1-generate-preview / veo-3.1-fast-generate-preview (ai.google.dev/gemini-api/docs/video).
 * - Vertex AI: the GA ids veo-3.1-generate-001 / veo-3.1-fast-generate-001 (docs.cloud.google.com
 *   gemini-enterprise-agent-platform/models/veo/3-1-generate, generate-videos-from-text).
 */
import type { StartRequest } from '../types.ts';
import type { VeoApi } from './veoMapping.ts';

export const VEO_MODEL_IDS: Record<VeoApi, Readonly<Record<string, string>>> = {
  gemini: {
    'veo3.1-fast-official': 'veo-3.1-fast-generate-preview',
    'veo3.1-quality-official': 'veo-3.1-generate-preview',
  },
  vertex: {
    'veo3.1-fast-official': 'veo-3.1-fast-generate-001',
    'veo3.1-quality-official': 'veo-3.1-generate-001',
  },
};

export function servesVeoModel(api: VeoApi, modelId: string): boolean {
  return Object.hasOwn(VEO_MODEL_IDS[api], modelId);
}

export function veoModelId(api: VeoApi, req: StartRequest): string {
  return req.upstreamModel ?? VEO_MODEL_IDS[api][req.request.model];
}
