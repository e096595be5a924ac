#!/usr/bin/env node
/**
 * l2tpd: the L2TP concentrator daemon. Runs in the foreground with JSON logs on stdout (pino).
 *   l2tpd [--config FILE] [--listen ADDR:PORT]... [--mgmt-socket PATH] [--dataplane auto|kernel|null]
 *         [--workers N] [--log-level LEVEL]
 * SIGTERM/SIGINT: StopCCN on every tunnel, then exit. SIGHUP: reload the configuration (a bad file
 * is refused and the running configuration kept).
 */
import { Command, Option } from 'commander';
import pino from 'pino';
import { logSink } from '../util/log-sink.js';
import { ConfigError, type ConfigOverrides } from '../config/index.js';
import { Daemon, VERSION } from './daemon.js';

async function main(argv: string[]): Promise<number> {
  const program = new Command('l2tpd')
    .description('L2TP concentrator daemon (LNS, LAC, L2TPv3 LCCE)')
    .version(VERSION)
    .option('-c, --config <file>', 'YAML configuration file (default: built-in defaults)')
    .option('--listen <addr:port...>', 'listen address(es), overriding system.listen')
    .option('--mgmt-socket <path>', 'management socket path, overriding system.mgmt_socket')
    .addOption(new Option('--dataplane <kind>', 'data plane, overriding system.dataplane').choices(['auto', 'kernel', 'null']))
    .option('--workers <n>', 'number of shard worker threads (default: system.workers)', (v) => Number.parseInt(v, 10))
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']))
    .exitOverride();
  try {
    program.parse(argv);
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  const opts = program.opts<{ config?: string; listen?: string[]; mgmtSocket?: string; dataplane?: 'auto' | 'kernel' | 'null'; workers?: number; logLevel?: string }>();
  const overrides: ConfigOverrides = {
    ...(opts.listen ? { listen: opts.listen } : {}),
    ...(opts.mgmtSocket ? { mgmtSocket: opts.mgmtSocket } : {}),
    ...(opts.dataplane ? { dataplane: opts.dataplane } : {}),
    ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
  };
  const log = pino({ level: opts.logLevel ?? 'info', base: { pid: process.pid } }, logSink());
  if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 256)) {
    process.stderr.write('l2tpd: --workers must be an integer 1..256\n');
    return 2;
  }
  const daemon = new Daemon({ configFile: opts.config, overrides, log, ...(opts.workers ? { workers: opts.workers } : {}) });
  try {
    await daemon.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`l2tpd: configuration refused:\n${e.format()}\n`);
      return 1;
    }
    process.stderr.write(`l2tpd: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    await daemon.stop(0).catch(() => undefined);
    return 1;
  }
  log.level = daemon.config.system.logLevel;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping: closing tunnels with StopCCN');
      daemon.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      try {
        daemon.reload();
      } catch {
        /* logged by reload; the old configuration stays */
      }
    });
  });
}

main(process.argv).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`l2tpd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
