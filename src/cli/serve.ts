/**
 * `reelay serve [--role api|worker|all]`: runs the gateway until SIGINT/SIGTERM, then shuts down gracefully.
 */
import type { Command } from 'commander';
import { loadConfig, ConfigError } from '../config/load.ts';
import { startGateway } from '../runtime/gateway.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the gateway (SQLite and files under REELAY_DATA_DIR unless configured otherwise).')
    .option('--role <role>', 'api, worker or all (default: all, or REELAY_ROLE)')
    .action(async (opts: { role?: string }) => {
      let config;
      try {
        config = loadConfig({ ...process.env, ...(opts.role ? { REELAY_ROLE: opts.role } : {}) });
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(`reelay: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
      const gateway = await startGateway(config);
      process.stdout.write(`reelay: serving the APIMart video API at ${gateway.url} (public URL ${config.public_url ?? gateway.url}); data in ${config.data_dir}\n`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`reelay: ${signal} received, finishing work in progress...\n`);
        // A second signal, or a stuck shutdown, ends the process anyway; nothing is lost (leases expire).
        const force = setTimeout(() => process.exit(1), 45_000);
        force.unref();
        gateway.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
