#!/usr/bin/env node
// Entry point of `npm run bench` (full run, writes BENCHMARKS.md) and `npm run bench:smoke` (seconds, for CI).
// Runs the TypeScript suite through tsx's loader, like bin/reelay.js, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
