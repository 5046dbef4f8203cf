/**
 * Figures, their targets and how they are printed and written to BENCHMARKS.md.
 *
 * Every figure is compared with a reference measured in the same run (the bare node:http baseline, a plain
 * stream copy, the channel's configured budget, a stated limit): `ratio = value / reference`. A target is
 * either on the ratio or on the value itself (latency in ms). The smoke run gates on ratio targets only, at
 * half the target (≥ 0.25 gates at 0.125; ≤ 1 at 2), so a noisy CI machine does not fail it — and only on
 * figures that do not opt out (`gate: false`: the PostgreSQL stage's, reported but not gated).
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

/** Smoke gate: a ratio below half its target (or above twice a ceiling). */
export function smokeFails(f: Figure): boolean {
  if (!f.target || f.target.on !== 'ratio' || f.gate === false) return false;
  const x = f.ratio;
  if (x === undefined || !Number.isFinite(x)) return true;
  return !meets(x, f.target.op, f.target.op === '>=' ? f.target.limit / 2 : f.target.limit * 2);
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
