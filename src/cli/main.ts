/**
 * `reelay <command>`: serve, keys, generate. `npm start` runs `reelay serve`.
 */
import { Command, CommanderError } from 'commander';
import { registerServe } from './serve.ts';
import { registerKeys } from './keys.ts';
import { registerGenerate } from './generate.ts';
import { registerMigrate } from './migrate.ts';

export function buildProgram(): Command {
  const program = new Command('reelay')
    .description('A self-hostable gateway for asynchronous AI video generation (the APIMart video API).')
    .showHelpAfterError();
  registerServe(program);
  registerKeys(program);
  registerGenerate(program);
  registerMigrate(program);
  return program;
}

const isMain = process.argv[1] && /bin[\\/]reelay(\.js)?$|cli[\\/]main\.ts$/.test(process.argv[1]);
if (isMain) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((e) => {
      if (e instanceof CommanderError) process.exit(e.exitCode);
      process.stderr.write(`reelay: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    });
}
