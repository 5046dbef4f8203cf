import fs from 'node:fs';
import type { RunOutcome } from '../main.ts';
export function writeMarkdown(file: string, out: RunOutcome): void { fs.writeFileSync(file, JSON.stringify(out.figures)); }
