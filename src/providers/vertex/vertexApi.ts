/**
 * Vertex AI's Veo wire format (UPSTREAMS.md §5b), as zod schemas. predictLongRunning answers with an
 * operation (`projects/…/publishers/google/models/…/operations/<id>`); it is read back with
 * `POST …/models/{model}:fetchPredictOperation {operationName}`, not a GET on the operation. A finished one
 * carries `response.videos[]`, each either inline (`bytesBase64Encoded`) or, when the request named a
 * `storageUri`, a `gcsUri` in the caller's bucket (js-genai generateVideosResponseFromVertex / videoFromVertex).
 */
import { z } from 'zod';
import { googleStatus } from '../google/googleErrors.ts';

const operationName = z.string().regex(/^(?!.*\.\.)[\w.\-/]+$/, 'an operation name (letters, digits, . _ - /)');

export const submitReply = z.object({ name: operationName }).passthrough();

const vertexVideo = z
  .object({
    gcsUri: z.string().optional(),
    bytesBase64Encoded: z.string().optional(),
    mimeType: z.string().optional(),
  })
  .passthrough();

export type VertexVideo = z.output<typeof vertexVideo>;

export const operationReply = z
  .object({
    name: operationName,
    done: z.boolean().optional(),
    error: googleStatus.optional(),
    response: z
      .object({
        videos: z.array(vertexVideo).optional(),
        raiMediaFilteredCount: z.number().optional(),
        raiMediaFilteredReasons: z.array(z.string()).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

/** `gs://bucket/object/path` → bucket and object; undefined for anything else. */
export function parseGcsUri(uri: string): { bucket: string; object: string } | undefined {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1], object: m[2] } : undefined;
}
