/**
 * What the l2tpctl commands that talk to the daemon share (src/cli/commands/{status,show,stats,tunnel,session,
 * trace,reload}.ts): where the socket is, connecting, argument parsers, and the one mapping from "what went
 * wrong" to an exit code. Scripts depend on these codes; keep them stable.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { ExitCode } from '../cli/io.js';
import { MgmtClient, MgmtUnavailableError } from './client.js';
import { MgmtError, parseEndpoint, type ErrorCode } from './protocol.js';
import type { CommandContext } from '../cli/commands/context.js';

export const DEFAULT_MGMT_SOCKET = '/run/l2tpd/l2tpd.sock';
export const MGMT_SOCKET_ENV = 'L2TPD_MGMT_SOCKET';

/** Exit codes of the management commands: a superset of io.ts's ExitCode. */
export const MgmtExitCode = {
  Ok: 0,
  /** The daemon refused or failed the operation (refused, limit, internal, unknown-method). */
  Failure: 1,
  /** Usage error: a bad command line, or the daemon rejected the request's parameters (bad-request). */
  Usage: 2,
  /** No such tunnel or session. */
  NotFound: 3,
  /** Cannot reach the daemon: no socket, connection refused, permission denied, no answer in time. */
  Unavailable: 4,
} as const;
export type MgmtExitCode = (typeof MgmtExitCode)[keyof typeof MgmtExitCode];

/** The text `l2tpctl --help` ends with. */
export const EXIT_CODES_HELP = [
  '',
  'Exit codes:',
  '  0  success',
  '  1  the daemon refused or failed the operation (or a decoded packet is bad)',
  '  2  usage error (bad command line, or parameters the daemon rejects)',
  '  3  not found: no such tunnel or session',
  '  4  cannot reach the daemon (see --mgmt-socket, $' + MGMT_SOCKET_ENV + ')',
].join('\n');

const BY_ERROR_CODE: Record<ErrorCode, MgmtExitCode> = {
  'bad-request': MgmtExitCode.Usage,
  'not-found': MgmtExitCode.NotFound,
  refused: MgmtExitCode.Failure,
  limit: MgmtExitCode.Failure,
  internal: MgmtExitCode.Failure,
  'unknown-method': MgmtExitCode.Failure,
};

/**
 * io.ts's ExitCode stops at 2 and belongs to another part of the tree; `main` passes the number through
 * untouched, so 3 and 4 are only a type widening away. This is the single place that widens.
 */
const asExitCode = (code: MgmtExitCode): ExitCode => code as number as ExitCode;

export function socketPathOf(globals: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): string {
  const given = globals['mgmtSocket'];
  if (typeof given === 'string' && given !== '') return given;
  return env[MGMT_SOCKET_ENV] || DEFAULT_MGMT_SOCKET;
}

export interface DaemonCall {
  /** Calls the daemon, connecting on first use (so usage checks before the first call never need a daemon). */
  call: MgmtClient['call'];
  /** --json was given. */
  json: boolean;
  /** Prints `value` as the --json document. */
  printJson(value: unknown): void;
}

/**
 * Wraps a management command: connects to the daemon named by --mgmt-socket, runs `body`, closes, and turns
 * the daemon's errors into a message on stderr and an exit code. Other errors propagate (main: internal error).
 */
export function daemonAction<A extends unknown[]>(
  ctx: CommandContext,
  name: string,
  body: (call: DaemonCall, ...args: A) => Promise<MgmtExitCode | void>,
): (...args: A) => Promise<void> {
  return ctx.action(name, async (...args: A) => {
    // commander passes (...arguments, options, command): the command is last.
    const cmd = args[args.length - 1] as Command;
    const globals = cmd.optsWithGlobals();
    const socketPath = socketPathOf(globals);
    let connecting: Promise<MgmtClient> | undefined;
    const call: MgmtClient['call'] = async (method, ...params) => {
      connecting ??= MgmtClient.connect(socketPath);
      return (await connecting).call(method, ...params);
    };
    try {
      const json = globals['json'] === true;
      const printJson = (value: unknown) => ctx.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
      return asExitCode((await body({ call, json, printJson }, ...args)) ?? MgmtExitCode.Ok);
    } catch (e) {
      if (e instanceof MgmtUnavailableError) {
        ctx.io.stderr(`l2tpctl ${name}: ${e.message}\n`);
        return asExitCode(MgmtExitCode.Unavailable);
      }
      if (e instanceof MgmtError) {
        ctx.io.stderr(`l2tpctl ${name}: ${e.message} (${e.code})\n`);
        return asExitCode(BY_ERROR_CODE[e.code]);
      }
      throw e;
    } finally {
      await connecting?.then((c) => c.close()).catch(() => undefined);
    }
  });
}

// ---- argument parsers (commander): a bad value is a usage error before anything is sent ------------

export function idArg(what: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 0xffffffff) throw new InvalidArgumentError(`${what} must be an integer 1..4294967295.`);
    return Number(v);
  };
}

export function endpointArg(v: string): string {
  if (!parseEndpoint(v)) throw new InvalidArgumentError('expected ADDR[:PORT] with an IP address, IPv6 as [ADDR]:PORT.');
  return v;
}
