/**
 * `l2tpctl decode`, the pure part: bytes (one packet in hex, or a pcap/pcapng capture) → a structured report per
 * L2TP packet (decode-report.ts). Each packet is decoded by decode-packet.ts; rendering the report as text or
 * JSON is decode-render.ts; the command line is commands/decode.ts.
 */
import { extractL2tp } from '../util/frames.js';
import { readCapture, type Capture } from '../util/pcap.js';
import { PacketDecoder } from './decode-packet.js';
import type { DecodeOptions, DecodeReport, PacketReport } from './decode-report.js';
import { UsageError } from './io.js';

export { PacketDecoder, errorReport } from './decode-packet.js';
export type * from './decode-report.js';

/** RFC 2661 §8.1. L2TPv3 over IP (protocol 115) needs no port. */
export const L2TP_UDP_PORT = 1701;

// ---------------------------------------------------------------------------------------------------------------
// Input

/**
 * One packet written in hex: spaces, colons, dashes, commas and line breaks between octets are fine, and a `0x`
 * may start every group. Throws UsageError saying what is wrong and where.
 */
export function parseHex(text: string): Buffer {
  const groups = text.split(/[\s:,\-]+/).filter((g) => g.length > 0);
  const digits = groups.map((g) => g.replace(/^0x/i, '')).join('');
  if (digits.length === 0) throw new UsageError('no hex digits given');
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw new UsageError(`bad hex: ${JSON.stringify(bad[0])} is not a hex digit (digit ${bad.index + 1})`);
  if (digits.length % 2 !== 0) throw new UsageError(`bad hex: odd number of hex digits (${digits.length})`);
  return Buffer.from(digits, 'hex');
}

export function checkOptions(opts: DecodeOptions): void {
  const c = opts.cookieLength;
  if (c !== undefined && c !== 0 && c !== 4 && c !== 8) {
    throw new UsageError(`--cookie-length must be 0, 4 or 8 (RFC 3931 §4.1), not ${c}`);
  }
  const p = opts.port;
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 0xffff)) throw new UsageError(`--port must be 1..65535, not ${p}`);
}

/** Decodes one packet given in hex. Throws UsageError for bad hex or options. */
export function decodeHex(text: string, opts: DecodeOptions = {}): DecodeReport {
  checkOptions(opts);
  const bytes = parseHex(text);
  const decoder = new PacketDecoder(opts);
  return { input: { kind: 'hex' }, packets: [decoder.decode(bytes, { index: 1, transport: opts.transport ?? 'udp' })] };
}

/** Decodes every L2TP packet of a pcap/pcapng file. Throws CaptureFormatError when the file is not a capture. */
export function decodeCapture(file: Uint8Array, opts: DecodeOptions = {}): DecodeReport {
  checkOptions(opts);
  const capture = readCapture(file);
  const packets = [...decodeCapturePackets(capture, opts)];
  return {
    input: { kind: 'capture', format: capture.format, frames: capture.packets.length, skipped: capture.packets.length - packets.length },
    packets,
  };
}

/** The L2TP packets of a capture, decoded in order: UDP to or from `port`, or IP protocol 115. */
export function* decodeCapturePackets(capture: Capture, opts: DecodeOptions = {}): Generator<PacketReport> {
  const port = opts.port ?? L2TP_UDP_PORT;
  const decoder = new PacketDecoder(opts);
  for (let i = 0; i < capture.packets.length; i++) {
    const frame = capture.packets[i]!;
    const l2tp = extractL2tp(frame);
    if (!l2tp) continue;
    if (l2tp.transport === 'udp' && l2tp.sport !== port && l2tp.dport !== port) continue;
    yield decoder.decode(l2tp.payload, {
      index: i + 1,
      timeNs: frame.timestampNs,
      src: l2tp.src,
      dst: l2tp.dst,
      sport: l2tp.sport,
      dport: l2tp.dport,
      transport: l2tp.transport,
    });
  }
}
