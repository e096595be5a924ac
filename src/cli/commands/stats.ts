/** `l2tpctl stats`: the daemon's counters, totals and per shard (stats). */
import type { Command } from 'commander';
import { daemonAction } from '../../mgmt/ctl.js';
import { statsText } from '../../mgmt/format.js';
import type { CommandContext } from './context.js';

export function registerStats(program: Command, ctx: CommandContext): void {
  program
    .command('stats')
    .summary('show packet and protocol counters, in total and per shard')
    .action(
      daemonAction(ctx, 'stats', async ({ call, json, printJson }) => {
        const stats = await call('stats');
        if (json) printJson(stats);
        else ctx.io.stdout(statsText(stats));
      }),
    );
}
