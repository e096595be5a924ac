/** `l2tpctl trace LEVEL [--tunnel ID [--session SID]]`: the log level of the system, a tunnel or a session (trace.set). */
import { Argument, type Command } from 'commander';
import { daemonAction, idArg } from '../../mgmt/ctl.js';
import { TRACE_LEVELS, type TraceLevel } from '../../mgmt/protocol.js';
import { UsageError } from '../io.js';
import type { CommandContext } from './context.js';

export function registerTrace(program: Command, ctx: CommandContext): void {
  program
    .command('trace')
    .summary('set the log level system-wide, or of one tunnel or session')
    .addArgument(new Argument('<level>', 'log level').choices(TRACE_LEVELS))
    .option('--tunnel <id>', 'only this tunnel (and its sessions)', idArg('--tunnel'))
    .option('--session <id>', 'only this session of --tunnel', idArg('--session'))
    .addHelpText('after', '\nExamples:\n  l2tpctl trace debug --tunnel 12\n  l2tpctl trace info')
    .action(
      daemonAction(ctx, 'trace', async ({ call, json, printJson }, level: TraceLevel, opts: { tunnel?: number; session?: number }) => {
        if (opts.session !== undefined && opts.tunnel === undefined) throw new UsageError('--session needs --tunnel');
        const result = await call('trace.set', { level, tunnelId: opts.tunnel, sessionId: opts.session });
        if (json) return printJson(result);
        const scope = opts.session !== undefined ? `session ${opts.tunnel}/${opts.session}` : opts.tunnel !== undefined ? `tunnel ${opts.tunnel}` : 'system-wide';
        ctx.io.stdout(`trace level ${level} ${scope}\n`);
      }),
    );
}
