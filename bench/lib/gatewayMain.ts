/**
 * One reelay process, started exactly as `reelay serve` starts it: startGateway(loadConfig(env)). The
 * orchestrator passes the environment (data dir, role, config file) and reads the URL from the ready message.
 *
 * BENCH_REELAY_ROOT=<dir> runs the reelay sources of another checkout instead (an A/B comparison of two
 * versions side by side in one run); by default this checkout's.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { loadConfig as LoadConfig } from '../../src/config/load.ts';
import type { startGateway as StartGateway } from '../../src/runtime/gateway.ts';
import { serveCommands } from './child.ts';

const root = process.env.BENCH_REELAY_ROOT;
const from = (rel: string) => (root ? pathToFileURL(path.join(path.resolve(root), rel)).href : new URL(`../../${rel}`, import.meta.url).href);
const { loadConfig } = (await import(from('src/config/load.ts'))) as { loadConfig: typeof LoadConfig };
const { startGateway } = (await import(from('src/runtime/gateway.ts'))) as { startGateway: typeof StartGateway };

const gw = await startGateway(loadConfig(process.env), { announce: () => undefined });
serveCommands({ url: gw.url, pid: process.pid }, {}, () => gw.close());
