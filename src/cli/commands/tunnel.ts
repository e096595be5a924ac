/** `l2tpctl tunnel create|delete`: open a tunnel to a peer (we are the initiator), or close one with StopCCN. */
import { isIP } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import { daemonAction, endpointArg, idArg } from '../../mgmt/ctl.js';
import { formatEndpoint, parseEndpoint } from '../../mgmt/protocol.js';
import type { CommandContext } from './context.js';

interface CreateOptions {
  peer: string;
  profile?: string;
  persistent?: boolean;
  version?: 2 | 3;
  name?: string;
  local?: string;
}

function versionArg(v: string): 2 | 3 {
  if (v !== '2' && v !== '3') throw new InvalidArgumentError('must be 2 or 3.');
  return Number(v) as 2 | 3;
}

function addressArg(v: string): string {
  if (isIP(v) === 0) throw new InvalidArgumentError('expected an IP address (no port).');
  return v;
}

export function registerTunnel(program: Command, ctx: CommandContext): void {
  const tunnel = program.command('tunnel').summary('create or delete tunnels').description('Create a tunnel to a peer, or delete one.');

  tunnel
    .command('create')
    .summary('open a tunnel to a peer')
    .requiredOption('--peer <addr[:port]>', 'peer address, port 1701 unless given; IPv6 as [ADDR]:PORT', endpointArg)
    .option('--profile <name>', 'tunnel profile (default: the profile named "default")')
    .option('--persistent', 're-open the tunnel whenever it goes down')
    .option('--version <2|3>', "L2TP version (default: the profile's)", versionArg)
    .option('--name <name>', 'a name for the tunnel, shown in logs')
    .option('--local <addr>', 'local address to send from', addressArg)
    .addHelpText('after', '\nExamples:\n  l2tpctl tunnel create --peer 192.0.2.7\n  l2tpctl tunnel create --peer [2001:db8::7]:1701 --version 3 --persistent')
    .action(
      daemonAction(ctx, 'tunnel create', async ({ call, json, printJson }, opts: CreateOptions) => {
        const t = await call('tunnels.create', {
          peer: opts.peer,
          profile: opts.profile,
          persistent: opts.persistent,
          version: opts.version,
          name: opts.name,
          local: opts.local,
        });
        if (json) return printJson(t);
        const peer = formatEndpoint(parseEndpoint(opts.peer) ?? { address: t.peerAddress, port: t.peerPort });
        ctx.io.stdout(`created tunnel ${t.tunnelId} to ${peer} (L2TPv${t.version}, profile ${t.profile}, state ${t.state})\n`);
      }),
    );

  tunnel
    .command('delete')
    .summary('close a tunnel (StopCCN) and all its sessions')
    .argument('<id>', 'local tunnel ID', idArg('tunnel ID'))
    .action(
      daemonAction(ctx, 'tunnel delete', async ({ call, json, printJson }, tunnelId: number) => {
        const result = await call('tunnels.delete', { tunnelId });
        if (json) printJson(result);
        else ctx.io.stdout(`closing tunnel ${tunnelId}\n`);
      }),
    );
}
