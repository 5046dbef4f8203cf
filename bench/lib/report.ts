/**
 * Figures, their targets and how they are printed and written to BENCHMARKS.md.
 *
 * Every figure is compared with a reference measured in the same run (the bare node:http baseline, a plain
 * stream copy, the channel's configured budget, a stated limit): `ratio = value / reference`. A target is
 * either on the ratio or on the value itself (latency in ms). The smoke run gates on ratio targets only, at
 * half the target (≥ 0.25 gates at 0.125; ≤ 1 at 2), so a noisy CI machine does not fail it — and only on
 * figures that do not opt out (`gate: false`: the PostgreSQL stage's, reported but not gated). A figure still
 * short of its target gates at half its latest full-run ratio instead (NOT_YET_AT_TARGET).
 */
export interface Target {
  on: 'ratio' | 'value';
  op: '>=' | '<=';
  limit: number;
}

export interface Figure {
  scenario: string;
  name: string;
  value: number;
  unit: string;
  reference?: { name: string; value: number; unit?: string };
  ratio?: number;
  target?: Target;
  note?: string;
  /** false: reported against its target, but never fails the smoke run (the PostgreSQL figures). */
  gate?: boolean;
}

export function figure(f: Omit<Figure, 'ratio'>): Figure {
  const ratio = f.reference && f.reference.value !== 0 ? f.value / f.reference.value : undefined;
  return { ...f, ratio };
}

function meets(x: number, op: '>=' | '<=', limit: number): boolean {
  return op === '>=' ? x >= limit : x <= limit;
}

export function passes(f: Figure): boolean | undefined {
  if (!f.target) return undefined;
  const x = f.target.on === 'ratio' ? f.ratio : f.value;
  if (x === undefined || !Number.isFinite(x)) return false;
  return meets(x, f.target.op, f.target.limit);
}

/**
 * Figures whose target is not reached yet (issue 5 stays open for them; BENCHMARKS.md shows MISS). Their
 * smoke gate is half of the latest full run's ratio instead of half the target — a gate at half the target
 * would fail every run, and a gate that always fails catches no regression. Remove an entry once its
 * target is met. Keyed by scenario (the stored-task variants "submit @1k" etc. share their scenario's).
 */
export const NOT_YET_AT_TARGET: Record<string, { floor: number; measured: string }> = {
  // Empty since 2026-12-06. Submit was gated at 0.1 from 2026-11-21 (full runs 0.121–0.313); after decision
  // 0012's items 33–35 its full runs and cost-curve stages measured 0.281–0.441 (0.293 in the main stage of
  // the 05:56 run, 0.307 at 05:46) and a smoke run 0.294–0.326, so it is gated at half its target like the rest.
};

/** The ratio below which the smoke run fails for this figure (undefined: not gated). */
export function smokeFloor(f: Figure): number | undefined {
  if (!f.target || f.target.on !== 'ratio' || f.gate === false || f.target.op !== '>=') return undefined;
  const known = NOT_YET_AT_TARGET[f.scenario.replace(/ @.*$/, '')];
  return known && f.name === 'throughput' ? known.floor : f.target.limit / 2;
}

/** Smoke gate: a ratio below half its target (or above twice a ceiling); see NOT_YET_AT_TARGET. */
export function smokeFails(f: Figure): boolean {
  if (!f.target || f.target.on !== 'ratio' || f.gate === false) return false;
  const x = f.ratio;
  if (x === undefined || !Number.isFinite(x)) return true;
  if (f.target.op === '<=') return !meets(x, '<=', f.target.limit * 2);
  return x < smokeFloor(f)!;
}

export function fmt(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const s = x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${s} ${unit}` : s;
}

export function targetText(t: Target | undefined): string {
  if (!t) return '';
  return `${t.on === 'ratio' ? 'ratio' : 'value'} ${t.op === '>=' ? '≥' : '≤'} ${t.limit}`;
}

export function describe(f: Figure): string {
  const ref = f.reference ? ` | ${f.reference.name} ${fmt(f.reference.value, f.reference.unit ?? f.unit)} | ratio ${fmt(f.ratio)}` : '';
  const p = passes(f);
  const verdict = p === undefined ? '' : ` | target ${targetText(f.target)}: ${p ? 'PASS' : 'MISS'}`;
  return `${f.scenario} · ${f.name}: ${fmt(f.value, f.unit)}${ref}${verdict}${f.note ? ` (${f.note})` : ''}`;
}
