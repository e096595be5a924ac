/**
 * `l2tpctl shard restart N [--crash]`: restart one shard worker; its tunnels and sessions come back
 * from the state store and keep running. `--crash` kills it the way a fault would (no final flush),
 * to check a deployment's recovery.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { daemonAction } from '../../mgmt/ctl.js';
import type { CommandContext } from './context.js';

export function registerShard(program: Command, ctx: CommandContext): void {
  const shard = program.command('shard').summary('operate on shard worker threads');
  shard
    .command('restart')
    .summary('restart a shard worker; its tunnels are restored from the state store')
    .argument('<shard>', 'shard index (0-based)', (v: string) => {
      if (!/^\d{1,3}$/.test(v) || Number(v) > 255) throw new InvalidArgumentError(`shard index must be 0..255, got ${v}`);
      return Number(v);
    })
    .option('--crash', 'kill the worker without letting it save its state first (fault injection)')
    .action(
      daemonAction(ctx, 'shard restart', async ({ call, json, printJson }, index: number, opts: { crash?: boolean }) => {
        const result = await call('shard.restart', { shard: index, ...(opts.crash ? { crash: true } : {}) });
        if (json) printJson(result);
        else ctx.io.stdout(`shard ${index} restarted; ${result.restored} tunnel(s) restored\n`);
      }),
    );
}
