import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatMoney, toDecimal } from '../../src/billing/money.ts';

describe('money', () => {
  it('toDecimal is the number formatMoney prints, for every whole amount of micros', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (m) => {
        expect(Object.is(toDecimal(m), Number(formatMoney(m)))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    for (const m of [0, 1, 9, 10, 999_999, 1_000_000, 1_000_001, 123_456_789, -1, -400_000, 2 ** 53 - 1]) {
      expect(toDecimal(m)).toBe(Number(formatMoney(m)));
    }
  });

  it('formatMoney drops trailing zeros and keeps the sign', () => {
    expect(formatMoney(400_000)).toBe('0.4');
    expect(formatMoney(12_000_000)).toBe('12');
    expect(formatMoney(-3_000_001)).toBe('-3.000001');
  });
});
