/**
 * What a request yields: width × height, frame rate, length, audio and number of videos, derived from the
 * model's OutputSpec. The simulator renders exactly this; billing charges its seconds × count.
 */
import type { ValidatedRequest } from './validate.ts';
import type { ModelSpec } from './spec.ts';

export interface OutputPlan {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  audio: boolean;
  count: number;
}

/** Facts about the input media, when it could be read (first image or source video). */
export interface InputFacts {
  width?: number;
  height?: number;
  /** Length of the EDIT source video, seconds. */
  sourceSeconds?: number;
}

export function parseAspect(aspect: string): number {
  const [w, h] = aspect.split(':').map(Number);
  return w / h;
}

const even = (x: number): number => Math.max(2, Math.round(x / 2) * 2);
const multipleOf8 = (x: number): number => Math.max(8, Math.round(x / 8) * 8);

export function planOutput(spec: ModelSpec, req: ValidatedRequest, facts: InputFacts = {}): OutputPlan {
  const out = spec.output;
  const resolution = String(req.params[out.sizing.resolutionField]);
  const fromInput = out.aspectFromInput?.includes(req.mode) && facts.width && facts.height;
  const aspectName = out.aspectField ? String(req.params[out.aspectField] ?? out.defaultAspect) : out.defaultAspect;
  const ratio = fromInput ? facts.width! / facts.height! : parseAspect(aspectName);

  let width: number;
  let height: number;
  if (out.sizing.kind === 'shortSide') {
    const short = out.sizing.shortSide[resolution];
    [width, height] = ratio >= 1 ? [even(short * ratio), short] : [short, even(short / ratio)];
  } else {
    const row = out.sizing.table[resolution];
    // An input image takes a table size when it has that entry's nominal aspect (1600×1200 is 4:3) or the
    // size's own shape (1088×832 itself, which is not exactly 4:3).
    const near = (r: number) => Math.abs(r - ratio) / ratio < 0.01;
    const exact = fromInput ? Object.entries(row).find(([a, [w, h]]) => near(parseAspect(a)) || near(w / h))?.[1] : row[aspectName];
    if (exact) {
      [width, height] = exact;
    } else {
      // Other aspects (an input image's) keep the area of the resolution's 16:9 size, on a grid of 8.
      const [w0, h0] = row['16:9'];
      const area = w0 * h0;
      width = multipleOf8(Math.sqrt(area * ratio));
      height = multipleOf8(area / Math.sqrt(area * ratio));
    }
  }

  const isEdit = req.mode === 'EDIT' && out.editCapSeconds !== undefined;
  const seconds = isEdit
    ? Math.min(facts.sourceSeconds ?? out.editCapSeconds!, out.editCapSeconds!)
    : Number(req.params[out.secondsField]);
  const audio = typeof out.audio === 'boolean' ? out.audio : req.params[out.audio.field] === true;
  const count = typeof out.count === 'number' ? out.count : Number(req.params[out.count.field] ?? 1);
  return { width, height, fps: out.fps, seconds, audio, count };
}

/**
 * Seconds billed for a request: seconds × videos. In EDIT mode, before the source is probed, this is the
 * cap (the most it can cost); settlement uses the seconds the upstream reports.
 */
export function billedSeconds(spec: ModelSpec, req: ValidatedRequest, facts: InputFacts = {}): number {
  const plan = planOutput(spec, req, facts);
  return plan.seconds * plan.count;
}
