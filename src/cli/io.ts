/**
 * What every l2tpctl command shares: where output goes, how it ends, and the one error type that means
 * "the operator asked for something impossible" (exit code 2) as opposed to "the thing inspected is bad" (1).
 *
 * Output goes through `CliIo` rather than process.stdout so tests run commands in-process and read what they
 * printed, and so a command never decides on its own to exit the process.
 */

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes of every l2tpctl command. */
export const ExitCode = {
  Ok: 0,
  /** The command ran, but what it looked at is bad: a packet failed to decode, the daemon said no... */
  Failure: 1,
  /** The command line cannot be acted upon: unknown option, bad hex, unreadable file. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Thrown by a command for bad input on its command line; `main` prints it and exits with ExitCode.Usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An io that collects everything printed (tests, and callers that post-process output). */
export function bufferedIo(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/** The process's own stdout/stderr. */
export const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};
