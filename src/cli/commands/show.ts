/**
 * `l2tpctl show tunnels|tunnel ID|sessions [--tunnel ID]|session TID SID`: what the daemon holds, as tables
 * and key: value blocks, or with --json the daemon's answer as it is. Exit 3 when the tunnel or session is gone.
 */
import type { Command } from 'commander';
import { daemonAction, idArg } from '../../mgmt/ctl.js';
import { sessionsText, sessionText, tunnelsText, tunnelText } from '../../mgmt/format.js';
import type { CommandContext } from './context.js';

export function registerShow(program: Command, ctx: CommandContext): void {
  const show = program.command('show').summary('show tunnels and sessions').description('Show the tunnels and sessions the daemon holds.');

  show
    .command('tunnels')
    .summary('list every tunnel')
    .action(
      daemonAction(ctx, 'show tunnels', async ({ call, json, printJson }) => {
        const tunnels = await call('tunnels.list');
        if (json) printJson(tunnels);
        else ctx.io.stdout(tunnelsText(tunnels));
      }),
    );

  show
    .command('tunnel')
    .summary('one tunnel in detail, with its sessions')
    .argument('<id>', 'local tunnel ID', idArg('tunnel ID'))
    .action(
      daemonAction(ctx, 'show tunnel', async ({ call, json, printJson }, tunnelId: number) => {
        const tunnel = await call('tunnels.get', { tunnelId });
        if (json) printJson(tunnel);
        else ctx.io.stdout(tunnelText(tunnel));
      }),
    );

  show
    .command('sessions')
    .summary('list sessions, of every tunnel or of one')
    .option('--tunnel <id>', 'only the sessions of this tunnel', idArg('--tunnel'))
    .action(
      daemonAction(ctx, 'show sessions', async ({ call, json, printJson }, opts: { tunnel?: number }) => {
        const sessions = await call('sessions.list', opts.tunnel === undefined ? {} : { tunnelId: opts.tunnel });
        if (json) printJson(sessions);
        else ctx.io.stdout(sessionsText(sessions));
      }),
    );

  show
    .command('session')
    .summary('one session in detail')
    .argument('<tunnel-id>', 'local tunnel ID', idArg('tunnel ID'))
    .argument('<session-id>', 'local session ID', idArg('session ID'))
    .action(
      daemonAction(ctx, 'show session', async ({ call, json, printJson }, tunnelId: number, sessionId: number) => {
        const session = await call('sessions.get', { tunnelId, sessionId });
        if (json) printJson(session);
        else ctx.io.stdout(sessionText(session));
      }),
    );
}
