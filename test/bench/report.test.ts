/** The smoke gate (bench/lib/report.ts): which ratio fails CI for which figure. */
import { describe, expect, it } from 'vitest';
import { figure, NOT_YET_AT_TARGET, smokeFails, type Figure } from '../../bench/lib/report.ts';

const throughput = (scenario: string, ratio: number, limit: number, extra: Partial<Figure> = {}): Figure =>
  figure({ scenario, name: 'throughput', value: ratio * 1000, unit: 'req/s', reference: { name: 'baseline', value: 1000 }, target: { on: 'ratio', op: '>=', limit }, ...extra });

describe('smoke gate', () => {
  it('fails a ratio below half its target, and passes one at or above it', () => {
    expect(smokeFails(throughput('poll', 0.249, 0.5))).toBe(true);
    expect(smokeFails(throughput('poll', 0.25, 0.5))).toBe(false);
    expect(smokeFails(throughput('validation', 0.299, 0.6))).toBe(true);
  });

  it('gates a figure still short of its target at its recorded floor, for every stored-task variant of the scenario', () => {
    NOT_YET_AT_TARGET.example = { floor: 0.1, measured: 'a test entry' };
    try {
      for (const scenario of ['example', 'example @1k', 'example @1M']) {
        expect(smokeFails(throughput(scenario, 0.099, 0.25)), scenario).toBe(true);
        expect(smokeFails(throughput(scenario, 0.1, 0.25)), scenario).toBe(false);
      }
    } finally {
      delete NOT_YET_AT_TARGET.example;
    }
  });

  it('gates submit at half its target, now that it meets it', () => {
    expect(NOT_YET_AT_TARGET.submit).toBeUndefined();
    expect(smokeFails(throughput('submit', 0.124, 0.25))).toBe(true);
    expect(smokeFails(throughput('submit @1k', 0.125, 0.25))).toBe(false);
  });

  it('fails a ceiling exceeded more than twice, never a figure that opts out, and a missing ratio always', () => {
    const rss = (ratio: number) => figure({ scenario: 'in flight', name: 'RSS', value: ratio * 1024, unit: 'MiB', reference: { name: 'limit', value: 1024 }, target: { on: 'ratio', op: '<=', limit: 1 } });
    expect(smokeFails(rss(2))).toBe(false);
    expect(smokeFails(rss(2.01))).toBe(true);
    expect(smokeFails(throughput('submit (PostgreSQL)', 0.001, 0.25, { gate: false }))).toBe(false);
    expect(smokeFails(figure({ scenario: 'poll', name: 'throughput', value: 5, unit: 'req/s', target: { on: 'ratio', op: '>=', limit: 0.5 } }))).toBe(true);
  });
});
