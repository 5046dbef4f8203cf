/**
 * The generic walker over the mapping table: the endpoint id a request goes to, the fal input built from
 * validated APIMart parameters, and why fal cannot take a request (for canServe).
 */
import type { FalEndpoint } from './falMapping.ts';

/** The endpoint to POST to: the channel's upstream model (or the table's base) plus the mode's subpath. */
export function endpointId(entry: FalEndpoint, upstreamModel?: string): string {
  const base = (upstreamModel?.trim() || entry.base).replace(/^\/+|\/+$/g, '');
  return `${base}${entry.subpath}`;
}

/**
 * The app id fal keys status, result and cancel on: owner/app without the subpath
 * (https://docs.fal.ai/model-endpoints/queue: "should be used when making the request, but not when
 * getting request status or results").
 */
export function appIdOf(endpoint: string): string {
  return endpoint.split('/').filter(Boolean).slice(0, 2).join('/');
}

/** fal's input body: mapped fields (transformed), then the fixed ones. Unmapped parameters are left out. */
export function falInput(entry: FalEndpoint, params: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, mapping] of Object.entries(entry.fields)) {
    const value = params[name];
    if (value === undefined) continue;
    input[mapping.to] = mapping.transform ? mapping.transform(value) : value;
  }
  return { ...input, ...entry.fixed };
}

/** Why fal's endpoint cannot take these parameters, in words a client can act on; undefined when it can. */
export function falRefusal(entry: FalEndpoint, params: Record<string, unknown>, endpoint = endpointId(entry)): string | undefined {
  const limits = entry.limits ?? {};
  for (const field of limits.required ?? []) {
    if (params[field] === undefined || params[field] === '') return `fal's ${endpoint} requires ${field}, which this request leaves out`;
  }
  for (const [field, max] of Object.entries(limits.maxLength ?? {})) {
    const value = params[field];
    if (typeof value === 'string' && [...value].length > max) return `fal's ${endpoint} takes at most ${max} characters of ${field}; this one has ${[...value].length}`;
  }
  for (const [field, max] of Object.entries(limits.maxItems ?? {})) {
    const value = params[field];
    if (Array.isArray(value) && value.length > max) return `fal's ${endpoint} takes at most ${max} ${field}; this request has ${value.length}`;
  }
  for (const [field, allowed] of Object.entries(limits.oneOf ?? {})) {
    const value = params[field];
    if (value !== undefined && !allowed.includes(value)) {
      return `fal's ${endpoint} cannot honour ${field}=${JSON.stringify(value)}; it takes only ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
    }
  }
  return undefined;
}
