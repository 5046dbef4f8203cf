/** The benchmark's one percentile rule (nearest rank): the smallest value with at least p of the values at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  return n ? sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] : NaN;
}
