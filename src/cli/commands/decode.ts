/**
 * `l2tpctl decode`: the command line around decode.ts — where the bytes come from (a capture file or hex on the
 * command line), which options mean what, and the exit code (0 all decoded, 1 some packet failed, 2 usage).
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CaptureFormatError } from '../../util/pcap.js';
import { decodeCapture, decodeHex, L2TP_UDP_PORT, type DecodeOptions, type DecodeReport } from '../decode.js';
import { renderJson, renderText } from '../decode-render.js';
import { ExitCode, UsageError, type CliIo } from '../io.js';
import type { CommandContext } from './context.js';

export interface DecodeCommandOptions extends DecodeOptions {
  json?: boolean | undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Reads the input the operator named: one existing file is a capture, anything else is hex. */
export async function loadAndDecode(inputs: readonly string[], opts: DecodeOptions): Promise<DecodeReport> {
  const files = inputs.filter(isFile);
  if (files.length > 0) {
    if (inputs.length > 1) throw new UsageError(`give one capture file, or hex octets: got ${inputs.length} arguments, ${files.length} of them files`);
    const file = files[0]!;
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      return decodeCapture(bytes, opts);
    } catch (e) {
      if (e instanceof CaptureFormatError) throw new UsageError(`${file} is not a pcap or pcapng capture: ${e.message}`);
      throw e;
    }
  }
  const text = inputs.join(' ');
  try {
    return decodeHex(text, opts);
  } catch (e) {
    // A mistyped file name would otherwise be reported as bad hex ('.' and '/' are never part of hex input).
    if (e instanceof UsageError && inputs.length === 1 && /[/.]/.test(text)) {
      throw new UsageError(`${text}: no such file (and not hex either)`);
    }
    throw e;
  }
}

/** Runs the decode command; returns its exit code. Throws UsageError for bad input. */
export async function runDecode(inputs: readonly string[], opts: DecodeCommandOptions, io: CliIo): Promise<ExitCode> {
  const report = await loadAndDecode(inputs, opts);
  io.stdout(opts.json ? renderJson(report) : renderText(report));
  if (report.input.kind === 'capture' && report.packets.length === 0) {
    io.stderr(`l2tpctl decode: no L2TP packets (UDP port ${opts.port ?? L2TP_UDP_PORT} or IP protocol 115) in the capture; see --port\n`);
  }
  return report.packets.some((p) => p.error) ? ExitCode.Failure : ExitCode.Ok;
}

function integer(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}.`);
    return Number(v);
  };
}

export function registerDecode(program: Command, ctx: CommandContext): void {
  program
    .command('decode')
    .summary('decode L2TP packets from hex or a pcap/pcapng capture')
    .description(
      'Decode L2TP packets (RFC 2661 v2, RFC 3931 v3): one packet given in hex, or every L2TP packet of a ' +
        'pcap/pcapng capture (UDP port 1701 on either side, or IP protocol 115). Prints the header, every AVP ' +
        'with its RFC name and value, and what the codec objects to. ' +
        'Exit code: 0 all packets decoded, 1 some packet failed to decode, 2 usage error.',
    )
    .argument('<input...>', 'a capture file (pcap or pcapng), or packet octets in hex ("c8 02 00 14 ...", "c8:02:...", 0x...)')
    .option('--secret <secret>', 'tunnel shared secret: unhide hidden AVPs, check Challenge Responses and Message Digests')
    .addOption(new Option('--transport <transport>', 'how a hex packet arrived: udp, or ip for L2TPv3 over IP (protocol 115)').choices(['udp', 'ip']).default('udp'))
    .option('--cookie-length <octets>', 'L2TPv3 data: cookie length 0, 4 or 8 (default: learnt from ICRQ/ICRP in the capture, else 0)', integer('--cookie-length', 0, 8))
    .option('--l2-sublayer', 'L2TPv3 data: the default L2-Specific Sublayer is present (default: learnt from the capture, else absent)')
    .option('--no-l2-sublayer', 'L2TPv3 data: no L2-Specific Sublayer')
    .option('--port <port>', `UDP port that marks L2TP in a capture (default ${L2TP_UDP_PORT})`, integer('--port', 1, 65535))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  l2tpctl decode samples/xl2tpd-lac-lns.pcap',
        '  l2tpctl decode --secret samplesecret samples/hidden-avps.pcap',
        '  l2tpctl decode --json capture.pcapng | jq \'.packets[] | select(.error)\'',
        '  l2tpctl decode "c8 02 00 14 00 07 00 00 00 00 00 00 80 08 00 00 00 00 00 06"',
      ].join('\n'),
    )
    .action(
      ctx.action('decode', async (inputs: string[], opts: Record<string, unknown>, cmd: Command) => {
        const all = { ...cmd.optsWithGlobals(), ...opts } as Record<string, unknown>;
        return runDecode(
          inputs,
          {
            json: all['json'] === true,
            secret: all['secret'] as string | undefined,
            transport: all['transport'] as 'udp' | 'ip',
            cookieLength: all['cookieLength'] as number | undefined,
            l2SpecificSublayer: all['l2Sublayer'] as boolean | undefined,
            port: all['port'] as number | undefined,
          },
          ctx.io,
        );
      }),
    );
}
