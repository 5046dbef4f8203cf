/**
 * What a finished Veo operation means for the task, the same on both APIs once each adapter has read its
 * own reply shape (Gemini: response.generateVideoResponse.generatedSamples[].video; Vertex:
 * response.videos[]): an rpc error fails the task with Google's message; videos removed by Responsible-AI
 * filtering (raiMediaFilteredCount / raiMediaFilteredReasons, js-genai GenerateVideosResponse) fail it as
 * content_filtered with Google's reason when none is left; when only some were filtered, the rest succeed and
 * only those are billed.
 */
import type { StatusResult, UpstreamOutput } from '../types.ts';
import { googleCode, type GoogleStatus } from './googleErrors.ts';

/** What the adapters persist for a Veo job (JSON, with the task). */
export interface VeoOperation {
  /** Google's operation name: models/…/operations/… (Gemini) or projects/…/operations/… (Vertex). */
  name: string;
  model: string;
  /** Videos asked for and seconds each, to bill only what arrives. */
  count: number;
  seconds: number;
}

export interface FinishedVeo {
  error?: GoogleStatus;
  outputs: UpstreamOutput[];
  raiMediaFilteredCount?: number;
  raiMediaFilteredReasons?: string[];
}

export function finishedVeoStatus(provider: string, op: VeoOperation, done: FinishedVeo): StatusResult {
  if (done.error) {
    return {
      state: 'failed',
      error: { code: 'upstream_error', message: done.error.message || `${provider} reported the operation failed without a reason`, upstreamCode: googleCode(done.error) },
    };
  }
  const filtered = done.raiMediaFilteredCount ?? done.raiMediaFilteredReasons?.length ?? 0;
  if (done.outputs.length === 0) {
    if (filtered > 0) {
      const reasons = done.raiMediaFilteredReasons?.filter(Boolean).join(' | ');
      return {
        state: 'failed',
        error: {
          code: 'content_filtered',
          message: `Google's safety filters removed ${filtered === 1 ? 'the video' : `all ${filtered} videos`}${reasons ? `: ${reasons}` : ''}`,
          upstreamCode: 'RAI_MEDIA_FILTERED',
        },
      };
    }
    return { state: 'failed', error: { code: 'upstream_error', message: `${provider} finished operation ${op.name} without a video` } };
  }
  if (done.outputs.length < op.count) {
    return { state: 'succeeded', outputs: done.outputs, billedSeconds: op.seconds * done.outputs.length };
  }
  return { state: 'succeeded', outputs: done.outputs };
}
