/** `l2tpctl session create|delete`: place a call on a tunnel (ICRQ or OCRQ), or disconnect one (CDN). */
import { Option, type Command } from 'commander';
import { daemonAction, idArg } from '../../mgmt/ctl.js';
import { SESSION_TYPES, type SessionType } from '../../mgmt/protocol.js';
import type { CommandContext } from './context.js';

export function registerSession(program: Command, ctx: CommandContext): void {
  const session = program.command('session').summary('create or delete sessions').description('Create a session on a tunnel, or delete one.');

  session
    .command('create')
    .summary('open a session on a tunnel')
    .argument('<tunnel-id>', 'local tunnel ID', idArg('tunnel ID'))
    .addOption(
      new Option('--type <type>', 'lac-incoming: we are the LAC (ICRQ); lns-outgoing: we are the LNS and ask the LAC to dial (OCRQ)')
        .choices(SESSION_TYPES)
        .default('lac-incoming'),
    )
    .option('--calling <number>', 'Calling Number AVP')
    .option('--called <number>', 'Called Number AVP')
    .action(
      daemonAction(ctx, 'session create', async ({ call, json, printJson }, tunnelId: number, opts: { type: SessionType; calling?: string; called?: string }) => {
        const s = await call('sessions.create', { tunnelId, type: opts.type, callingNumber: opts.calling, calledNumber: opts.called });
        if (json) return printJson(s);
        ctx.io.stdout(`created session ${s.tunnelId}/${s.sessionId} (${s.callType}, state ${s.state})\n`);
      }),
    );

  session
    .command('delete')
    .summary('disconnect a session (CDN)')
    .argument('<tunnel-id>', 'local tunnel ID', idArg('tunnel ID'))
    .argument('<session-id>', 'local session ID', idArg('session ID'))
    .action(
      daemonAction(ctx, 'session delete', async ({ call, json, printJson }, tunnelId: number, sessionId: number) => {
        const result = await call('sessions.delete', { tunnelId, sessionId });
        if (json) printJson(result);
        else ctx.io.stdout(`disconnecting session ${tunnelId}/${sessionId}\n`);
      }),
    );
}
