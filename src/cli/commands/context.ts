/**
 * What l2tpctl.ts hands every command module: the io to print to, and `action`, which wraps a command's
 * handler so that its exit code reaches `main` and a UsageError becomes "l2tpctl <command>: why" with exit code 2.
 * A command module exports one `registerX(program, ctx)`; l2tpctl.ts lists them.
 */
import type { Command } from 'commander';
import { ExitCode, UsageError, type CliIo } from '../io.js';

export interface CommandContext {
  io: CliIo;
  action<A extends unknown[]>(name: string, handler: (...args: A) => Promise<ExitCode>): (...args: A) => Promise<void>;
}

export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

export function commandContext(io: CliIo, setExitCode: (code: ExitCode) => void): CommandContext {
  return {
    io,
    action:
      (name, handler) =>
      async (...args) => {
        try {
          setExitCode(await handler(...args));
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          io.stderr(`l2tpctl ${name}: ${e.message}\n`);
          setExitCode(ExitCode.Usage);
        }
      },
  };
}
