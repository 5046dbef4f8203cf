import type { Figure } from './lib/report.ts';
export interface InFlightOptions { levels: number[]; latencyMs: number; pollMinMs: number; pollMaxMs: number; pollRps: number; resultBytes: number }
export interface InFlightOutcome { figures: Figure[] }
export async function inFlight(_dir: string, _o: InFlightOptions, _log: (s: string) => void): Promise<InFlightOutcome> { return { figures: [] }; }
