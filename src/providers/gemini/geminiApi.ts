/**
 * The Gemini API's Veo wire format (UPSTREAMS.md §5a), as zod schemas: predictLongRunning answers with a
 * long-running operation, `GET /v1beta/{name}` reports it. A finished one carries
 * `response.generateVideoResponse.generatedSamples[].video` with a `uri` (a Files API download that needs
 * the API key) or, in some replies, the bytes as `encodedVideo` + `encoding` (js-genai videoFromMldev).
 */
import { z } from 'zod';
import { googleStatus } from '../google/googleErrors.ts';

/** `models/<model>/operations/<id>`; checked because it is joined onto the API's base URL. */
const operationName = z.string().regex(/^(?!.*\.\.)[\w.\-/]+$/, 'an operation name (letters, digits, . _ - /)');

export const submitReply = z.object({ name: operationName }).passthrough();

const generatedVideo = z
  .object({
    uri: z.string().optional(),
    encodedVideo: z.string().optional(),
    encoding: z.string().optional(),
  })
  .passthrough();

export const operationReply = z
  .object({
    name: operationName,
    // proto3 JSON leaves `done: false` out, so absent means pending.
    done: z.boolean().optional(),
    error: googleStatus.optional(),
    response: z
      .object({
        generateVideoResponse: z
          .object({
            generatedSamples: z.array(z.object({ video: generatedVideo.optional() }).passthrough()).optional(),
            raiMediaFilteredCount: z.number().optional(),
            raiMediaFilteredReasons: z.array(z.string()).optional(),
          })
          .passthrough()
          .optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

export type GeminiVideo = z.output<typeof generatedVideo>;
