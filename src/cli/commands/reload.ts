/**
 * `l2tpctl reload`: re-read the configuration file (config.reload), the same as SIGHUP but with an answer: what
 * changed, or why the new file was refused (exit 1, nothing changed).
 */
import type { Command } from 'commander';
import { daemonAction } from '../../mgmt/ctl.js';
import type { CommandContext } from './context.js';

export function registerReload(program: Command, ctx: CommandContext): void {
  program
    .command('reload')
    .summary('reload the configuration file without dropping tunnels or sessions')
    .action(
      daemonAction(ctx, 'reload', async ({ call, json, printJson }) => {
        const result = await call('config.reload');
        if (json) printJson(result);
        else if (result.changed.length === 0) ctx.io.stdout('configuration reloaded: nothing changed\n');
        else ctx.io.stdout(`configuration reloaded: ${result.changed.length} changed\n${result.changed.map((c) => `  ${c}\n`).join('')}`);
      }),
    );
}
