/** `l2tpctl status`: the daemon's version, uptime, data plane, shards and counts (system.status). */
import type { Command } from 'commander';
import { daemonAction } from '../../mgmt/ctl.js';
import { statusText } from '../../mgmt/format.js';
import type { CommandContext } from './context.js';

export function registerStatus(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .summary('show the daemon: version, uptime, data plane, tunnel and session counts')
    .action(
      daemonAction(ctx, 'status', async ({ call, json, printJson }) => {
        const status = await call('system.status');
        if (json) printJson(status);
        else ctx.io.stdout(statusText(status));
      }),
    );
}
