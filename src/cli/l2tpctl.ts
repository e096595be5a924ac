#!/usr/bin/env node
/**
 * l2tpctl, the operator CLI: a thin dispatcher. Each command lives in its own module under commands/ and is
 * listed in COMMANDS; this file only builds the commander program, routes its output through a CliIo and turns
 * whatever happened into an exit code (0 ok, 1 the command ran but found a problem, 2 usage error; the daemon
 * commands add 3 not found and 4 daemon unreachable: mgmt/ctl.ts).
 *
 * `main(argv, io)` never calls process.exit, so tests run commands in-process; only the bin entry at the end
 * touches the real process.
 */
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { commandContext, type RegisterCommand } from './commands/context.js';
import { registerDecode } from './commands/decode.js';
import { registerReload } from './commands/reload.js';
import { registerSession } from './commands/session.js';
import { registerShard } from './commands/shard.js';
import { registerShow } from './commands/show.js';
import { registerStats } from './commands/stats.js';
import { registerStatus } from './commands/status.js';
import { registerTrace } from './commands/trace.js';
import { registerTunnel } from './commands/tunnel.js';
import { DEFAULT_MGMT_SOCKET, EXIT_CODES_HELP, MGMT_SOCKET_ENV } from '../mgmt/ctl.js';
import { ExitCode, processIo, type CliIo } from './io.js';

/** Every command, in the order `l2tpctl --help` lists them. Management-socket commands join here. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerStatus,
  registerShow,
  registerStats,
  registerTunnel,
  registerSession,
  registerTrace,
  registerReload,
  registerShard,
  registerDecode,
];

/** Commander's ways of ending that are not errors. */
const CLEAN_EXITS = new Set(['commander.helpDisplayed', 'commander.version']);

function packageVersion(): string {
  // src/cli/l2tpctl.ts under vitest, dist/src/cli/l2tpctl.js when built: walk up to the package.json.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'l2tpd') return pkg.version ?? 'unknown';
    } catch {
      // not here; go up
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

export function buildProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('l2tpctl')
    .description('Operator CLI of the l2tpd L2TP concentrator.')
    .version(packageVersion(), '-V, --version')
    .option('--json', 'print one JSON document instead of text (every read command)')
    .option('--mgmt-socket <path>', `management socket of l2tpd (default: $${MGMT_SOCKET_ENV}, else ${DEFAULT_MGMT_SOCKET})`)
    .addHelpText('after', EXIT_CODES_HELP)
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();
  const ctx = commandContext(io, setExitCode);
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/**
 * `tunnel create --version 3` means the L2TP version, but commander lets the program's own -V/--version flag
 * claim `--version` wherever it appears on the line. After the first command word, `--version V` becomes
 * `--version=V`: the program's flag takes no value, so it does not match that form, and the command gets it.
 */
function commandVersionOptions(argv: readonly string[], program: Command): string[] {
  const commands = new Set(program.commands.map((c) => c.name()));
  const first = argv.findIndex((a) => commands.has(a));
  if (first === -1) return [...argv];
  const out = argv.slice(0, first + 1);
  for (let i = first + 1; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--version' && next !== undefined && !next.startsWith('-')) out.push(`--version=${argv[++i]!}`);
    else out.push(argv[i]!);
  }
  return out;
}

/** Runs l2tpctl with `argv` (without node and the script) and returns its exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<ExitCode> {
  let code: ExitCode = ExitCode.Ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(commandVersionOptions(argv, program), { from: 'user' });
  } catch (e) {
    // Commander has already printed its message (usage errors, help, version) through configureOutput.
    if (e instanceof CommanderError) return CLEAN_EXITS.has(e.code) ? ExitCode.Ok : ExitCode.Usage;
    io.stderr(`l2tpctl: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return ExitCode.Failure;
  }
  return code;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // npm installs bins as symlinks: compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `l2tpctl decode big.pcap | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  process.exitCode = await main(process.argv.slice(2));
}
