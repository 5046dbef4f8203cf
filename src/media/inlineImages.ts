/**
 * Inline images (data:image/...;base64 URIs) in a validated request: decoded, checked against the field's
 * image rules, stored under inputs/<day>/<task>/, and replaced in the request by a signed URL of the stored
 * copy. Images uploaded to this gateway and passed by their signed URL are checked against the same rules
 * (read from storage, not over HTTP) and passed on as they are. The first image's size is returned as an
 * input fact (image-to-video takes its aspect).
 */
import { ApiError } from '../errors.ts';
import type { ModelSpec, ImageRules } from '../models/spec.ts';
import type { ValidatedRequest } from '../models/validate.ts';
import type { InputFacts } from '../models/output.ts';
import type { StoredInput } from '../tasks/task.ts';
import type { ObjectStorage } from './storage/types.ts';
import type { UrlSigner } from './signedUrls.ts';
import { checkImage, contentTypeFor, decodeDataUri, extensionFor, probeImage, probeImageStream, PROBE_PREFIX_BYTES, type ImageContext, type ImageInfo } from './images.ts';

export interface InlineImageDeps {
  storage: ObjectStorage;
  signer: UrlSigner;
  taskId: string;
  now: number;
  ttlSeconds: number;
}

export interface InlineImagesResult {
  request: ValidatedRequest;
  inputs: StoredInput[];
  facts: InputFacts;
}

/**
 * Whether `storeInlineImages` has anything to do: an inline image to store, or an upload of this gateway
 * to check. Most requests have no image, or only images by URL elsewhere, and skip it — its copies of the
 * request and its promise cost a submit several microseconds (docs/decisions/0012-performance.md).
 */
export function needsStoring(spec: ModelSpec, request: ValidatedRequest, signer: UrlSigner, now: number): boolean {
  for (const name in request.params) {
    const type = spec.fields[name]?.type;
    if (type !== 'image' && type !== 'images') continue;
    const value = request.params[name];
    for (const url of Array.isArray(value) ? (value as string[]) : [value as string]) {
      if (typeof url !== 'string') continue;
      if (url.startsWith('data:') || signer.keyOf(url, Math.floor(now / 1000)) !== undefined) return true;
    }
  }
  return false;
}

export async function storeInlineImages(spec: ModelSpec, request: ValidatedRequest, d: InlineImageDeps): Promise<InlineImagesResult> {
  const params = { ...request.params };
  const inputs: StoredInput[] = [];
  const facts: InputFacts = {};
  const day = new Date(d.now).toISOString().slice(0, 10);
  const expiresAt = Math.floor(d.now / 1000) + d.ttlSeconds;
  try {
    for (const [field, def] of Object.entries(spec.fields)) {
      if (def.type !== 'image' && def.type !== 'images') continue;
      const value = params[field];
      if (value === undefined) continue;
      const list = Array.isArray(value) ? [...(value as string[])] : [value as string];
      for (let i = 0; i < list.length; i++) {
        const index = def.type === 'images' ? i : null;
        const param = index === null ? field : `${field}[${i}]`;
        if (!list[i].startsWith('data:')) {
          // An image uploaded to this gateway (POST /v1/uploads/images) was only checked for being an image;
          // whether this model takes it is checked here, before anything is charged.
          const ownKey = d.signer.keyOf(list[i], Math.floor(d.now / 1000));
          if (ownKey === undefined) continue;
          const image = await checkStoredImage(d.storage, ownKey, def.rules, { param: field, label: param, model: spec.id });
          if (facts.width === undefined) Object.assign(facts, { width: image.width, height: image.height });
          continue;
        }
        const image = decodeAndCheck(list[i], def.rules, { param: field, label: param, model: spec.id });
        if (facts.width === undefined) Object.assign(facts, { width: image.width, height: image.height });
        const key = `inputs/${day}/${d.taskId}/${field}${index === null ? '' : `-${i}`}.${extensionFor(image.format)}`;
        const contentType = contentTypeFor(image.format);
        await d.storage.put(key, image.bytes, { contentType, maxBytes: def.rules.maxBytes });
        inputs.push({ field, index, key, contentType, bytes: image.bytes.length });
        list[i] = d.signer.sign(key, expiresAt);
      }
      params[field] = Array.isArray(value) ? list : list[0];
    }
  } catch (e) {
    await Promise.all(inputs.map((x) => d.storage.delete(x.key).catch(() => undefined)));
    throw e;
  }
  return { request: { ...request, params }, inputs, facts };
}

function decodeAndCheck(uri: string, rules: ImageRules, ctx: ImageContext) {
  const { bytes } = decodeDataUri(uri, rules.maxBytes, ctx);
  const info = probeImage(bytes);
  checkImage(info, bytes.length, rules, ctx);
  if (!info || info.format === 'other') throw new ApiError('invalid_image', `${ctx.label} is not an image reelay can read.`, ctx.param);
  return { bytes, format: info.format, width: info.width, height: info.height };
}

/**
 * An object in this gateway's storage, checked against `rules` like a base64 image: its size from storage,
 * its format and sides from its head (never more than PROBE_PREFIX_BYTES is read).
 */
async function checkStoredImage(storage: ObjectStorage, key: string, rules: ImageRules, ctx: ImageContext) {
  const gone = () => new ApiError('invalid_url', `${ctx.label ?? ctx.param} refers to an upload that is no longer stored; upload the image again.`, ctx.param);
  const stat = await storage.stat(key).catch(() => undefined);
  if (!stat) throw gone();
  let info: ImageInfo | undefined;
  if (stat.bytes > 0) {
    const head = await storage.get(key, { start: 0, end: Math.min(stat.bytes, PROBE_PREFIX_BYTES) - 1 }).catch(() => undefined);
    if (!head) throw gone();
    info = (await probeImageStream(head.body, PROBE_PREFIX_BYTES)).info;
  }
  checkImage(info, stat.bytes, rules, ctx);
  return { width: info!.width, height: info!.height };
}
