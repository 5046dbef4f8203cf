/**
 * Money is kept in integer micro-units (1 unit = 1,000,000 micros) everywhere inside reelay; floats appear
 * only at the API edge, where amounts are shown as decimals.
 */
export const MICROS = 1_000_000;

/**
 * Parses an amount given as a JSON number or a decimal string ("12.5", "0.000001") into micros, exactly:
 * strings are parsed digit by digit, numbers through their shortest decimal representation.
 * Returns undefined for anything that is not a finite amount with at most 6 decimals.
 */
export function parseMoney(v: unknown): number | undefined {
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    s = String(v);
    if (/e/i.test(s)) s = v.toFixed(7).replace(/0+$/, '');
  } else if (typeof v === 'string') {
    s = v.trim();
  } else {
    return undefined;
  }
  const m = /^(-)?(\d+)(?:\.(\d{0,6}))?$/.exec(s);
  if (!m) return undefined;
  const micros = Number(m[2]) * MICROS + Number((m[3] ?? '').padEnd(6, '0'));
  if (!Number.isSafeInteger(micros)) return undefined;
  return m[1] ? -micros : micros;
}

/** Micros as a JSON number for the API (0.4, 12.5); exact to 6 decimals for any realistic balance. */
export function toDecimal(micros: number): number {
  // The same number as Number(formatMoney(micros)): an IEEE division of a whole number by 10^6 is rounded
  // to the double nearest the exact decimal, as parsing that decimal is (micros is far below 2^53).
  const abs = Math.round(Math.abs(micros));
  return (micros < 0 ? -abs : abs) / MICROS;
}

/** Micros as a decimal string without trailing zeros ("0.4", "12", "-3.000001"). */
export function formatMoney(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.round(micros));
  const whole = Math.floor(abs / MICROS);
  const frac = String(abs % MICROS).padStart(6, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}
