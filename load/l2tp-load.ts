#!/usr/bin/env node
/**
 * l2tp-load: emulates many LACs placing incoming calls to an LNS, and reports how fast and how well
 * the LNS set them up. See load/README.md for the options, the report and the design.
 *
 * Exit codes: 0 every planned tunnel and call came up (or the run ended at --duration without a
 * failure); 1 some failed; 2 bad options; 3 no tunnel could be established (target refused or
 * unreachable) or a fatal error; 130 stopped by SIGINT/SIGTERM (the reports are written all the same).
 */
import os from 'node:os';
import { Command, Option } from 'commander';
import { camel, LoadOptionError, readConfigFile, resolveOptions, type RawOptions } from './options.js';
import { runLoad, summary } from './run.js';

const EPILOG = `
Examples:
  l2tp-load --target 127.0.0.1 --tunnels 100 --sessions-per-tunnel 100 --rate 2000 --json r.json --html r.html
  l2tp-load --config load.yaml --target-pid $(pidof l2tpd)
  l2tp-load --target 127.0.0.1 --tunnels 100 --sessions-per-tunnel 100 --ppp --auth chap --user 'user{n}@realm' --password 'pw{n}'
  l2tp-load --target 198.18.0.1 --tunnels 10 --sessions-per-tunnel 100 --ppp --ping-rate 1 --duration 60

Only loopback (127.0.0.0/8, ::1) and 198.18.0.0/15 targets are accepted.`;

function program(): Command {
  return new Command('l2tp-load')
    .description('L2TP load generator: emulates LACs (SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/ICCN, CDN, StopCCN) and their PPP subscribers against an LNS')
    .option('--target <host[:port]>', 'the LNS (port 1701 by default)')
    .option('--tunnels <n>', 'tunnels (emulated LACs) [1]')
    .option('--sessions-per-tunnel <m>', 'incoming calls per tunnel [1]')
    .option('--rate <r>', 'new calls per second, all tunnels together [100]')
    .option('--tunnel-rate <r>', 'new tunnels per second [--rate]')
    .option('--max-outstanding <k>', 'set-ups in flight at most (calls; tunnels separately) [min(1000, calls)]')
    .option('--calls-after-tunnels', 'place no call before all tunnels are up (or have failed): call latency of an LNS in service')
    .option('--secret <s>', 'tunnel secret (challenge authentication, hidden AVPs)')
    .option('--challenge', 'challenge the LNS (RFC 2661 §5.1.1; L2TPv3: message digests)')
    .option('--hide-avps', 'hide AVPs (RFC 2661 §4.3)')
    .addOption(new Option('--version <v>', 'L2TP version [2]').choices(['2', '3']))
    .option('--hostname <name>', 'Host Name AVP; {n} becomes the tunnel number [l2tp-load]')
    .option('--source <addrs...>', 'source addresses: A, A-B (IPv4 range) or lists of them, used round-robin by tunnel')
    .option('--source-port <p|auto>', 'auto: own ephemeral port per tunnel; P: one socket per source address [auto]')
    .addOption(new Option('--socket-io <how>', 'sockets: native (the addon, batched reads), node (dgram), auto: native where it loads [auto]').choices(['auto', 'native', 'node']))
    .option('--hold <seconds>', 'hold each call this long, then clear it (CDN) [until the end]')
    .option('--teardown-rate <r>', 'CDNs per second at most [--rate]')
    .option('--duration <seconds>', 'stop after this long at the latest')
    .option('--config <file>', 'YAML or JSON file with any of these options (the command line wins)')
    .option('--json <file>', 'write the JSON report here')
    .option('--html <file>', 'write the HTML report here (charts; opens offline)')
    .option('--workers <n>', 'worker threads [half the CPU cores, at least 1]')
    .option('--target-pid <pid>', 'report this process\'s CPU (the LNS) beside ours')
    .option('--max-retransmits <n>', 'control message retransmissions before a tunnel is dead [5]')
    .option('--tunnel-retries <n>', 'new attempts for a tunnel whose set-up failed [2]')
    .option('--setup-timeout <seconds>', 'a tunnel or call not established by then is abandoned [30]')
    .option('--abort-after <n>', 'abort when this many tunnel attempts failed and none came up [10]')
    .option('--receive-window <n>', 'our Receive Window Size AVP [256]')
    .option('--ppp', 'PPP subscriber mode: each call carries a subscriber (LCP, authentication, IPCP); up when IPCP is Opened')
    .addOption(new Option('--auth <protocol>', 'PPP: the authentication the subscriber agrees to [pap]').choices(['pap', 'chap', 'mschapv2']))
    .option('--user <template>', 'PPP: user name; {n} becomes the subscriber index (0-based, global) [user{n}]')
    .option('--password <template>', 'PPP: password; {n} as in --user [pw{n}]')
    .option('--ipv6cp', 'PPP: negotiate IPv6CP too; up only when both NCPs are Opened')
    .option('--proxy-lcp', 'PPP: the LAC negotiates LCP itself and hands it over in the ICCN (RFC 2661 §4.4.5)')
    .option('--proxy-auth', 'PPP: with --proxy-lcp, the PAP request / CHAP response goes in the ICCN too')
    .option('--ping-rate <r>', 'PPP data: ICMP echo requests per second per session once it is up (0: none) [0]')
    .option('--ping-size <n>', 'PPP data: ICMP echo data octets [56]')
    .option('--ping-target <ipv4>', "PPP data: where the echo requests go [the LNS's IPCP address]")
    .option('--ping-timeout <seconds>', 'PPP data: a reply later than this counts as lost [2]')
    .option('--no-progress', 'no progress line (it is off anyway when stdout is not a terminal)')
    .addHelpText('after', EPILOG)
    .helpOption('-h, --help')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
}

async function main(argv: string[]): Promise<number> {
  const p = program();
  try {
    p.parse(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  if (p.args.length > 0) {
    process.stderr.write(`l2tp-load: unexpected argument "${p.args[0]}" (see --help)\n`);
    return 2;
  }
  const given = p.opts<Record<string, unknown>>();
  const cli: RawOptions = {};
  for (const [k, v] of Object.entries(given)) {
    // commander's --no-progress default (true) must not override the file; only what was typed counts.
    if (p.getOptionValueSource(k) === 'cli') cli[camel(k)] = v;
  }
  let options;
  try {
    const file = typeof given['config'] === 'string' ? readConfigFile(given['config']) : {};
    delete cli['config'];
    options = resolveOptions(cli, file, os.availableParallelism());
  } catch (e) {
    if (e instanceof LoadOptionError) {
      process.stderr.write(`l2tp-load: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (options.targetPid !== undefined) {
    const { readProcCpu } = await import('./cpu.js');
    if (!readProcCpu(options.targetPid)) {
      process.stderr.write(`l2tp-load: --target-pid: no process ${options.targetPid} (or /proc is not readable)\n`);
      return 2;
    }
  }
  const r = await runLoad(options);
  process.stdout.write(summary(r.report) + '\n');
  if (options.json) process.stdout.write(`  JSON report: ${options.json}\n`);
  if (options.html) process.stdout.write(`  HTML report: ${options.html}\n`);
  if (r.error) process.stderr.write(`l2tp-load: ${r.error}\n`);
  return r.exitCode;
}

main(process.argv).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`l2tp-load: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(3);
  },
);
