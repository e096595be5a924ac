/**
 * `l2tpctl decode` output: the report of decode.ts as text for people or as one JSON document for programs.
 *
 * The JSON field names are an interface (operators' scripts and the tests rely on them): add fields, never
 * rename or drop one. Every key is always present, null when it does not apply, so `jq` filters need no `?`.
 * Buffers are lowercase hex strings, 64-bit integers and timestamps decimal strings.
 */
import { formatAvpValue, hex, ethernetLine, pppLine, toJsonValue, type JsonValue } from './decode-format.js';
import type { AvpReport, DecodeReport, ErrorReport, InputInfo, PacketReport } from './decode.js';

// ---------------------------------------------------------------------------------------------------------------
// Text

/** "2026-11-21T10:19:08.854259Z", with nanoseconds when the capture has them. */
export function formatTime(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // ...T10:19:08.854Z
  const sub = ns % 1_000_000_000n;
  const frac = sub % 1000n === 0n ? (sub / 1000n).toString().padStart(6, '0') : sub.toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

function endpoint(addr: string | undefined, port: number | undefined): string {
  if (addr === undefined) return '?';
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function flags(a: AvpReport): string {
  return `${a.mandatory ? 'M' : '-'}${a.hidden ? 'H' : '-'}`;
}

/** The value part of an AVP line. */
export function avpValueText(a: AvpReport, messageType: number | undefined): string {
  if (a.undecoded === 'hidden') return `<hidden, ${a.raw?.length ?? 0} octets; give --secret>`;
  if (a.undecoded === 'reserved-bits') return `<reserved header bits set, not interpreted (RFC 2661 §4.1): ${hex(a.raw ?? Buffer.alloc(0))}>`;
  let s = formatAvpValue(a.spec, a.value!, messageType);
  if (a.hidden) s += ' (was hidden)';
  if (a.verified === true) s += ' (verified with --secret)';
  if (a.verified === false) s += ' (MISMATCH with --secret)';
  return s;
}

function avpLine(a: AvpReport, messageType: number | undefined): string {
  const id = `avp[${a.index}]`.padEnd(7);
  const where = `vendor ${a.vendorId} type ${a.type}`.padEnd(17);
  return `    ${id} ${flags(a)} ${where} ${a.name}: ${avpValueText(a, messageType)}`;
}

function summaryLine(p: PacketReport): string {
  const what = [p.version === undefined ? 'L2TP' : `L2TPv${p.version}`, p.kind, p.messageName].filter((x) => x !== undefined);
  const parts: string[] = [what.join(' ')];
  if (p.kind === 'control') {
    parts.push(p.version === 3 ? `ccid ${p.tunnelId}` : `tunnel ${p.tunnelId}`);
    if (p.version === 2) parts.push(`session ${p.sessionId}`);
  } else if (p.kind === 'data') {
    if (p.tunnelId !== undefined) parts.push(`tunnel ${p.tunnelId}`);
    parts.push(`session ${p.sessionId}`);
  }
  if (p.ns !== undefined) parts.push(`Ns ${p.ns}`, `Nr ${p.nr}`);
  parts.push(`${p.length} octets`);
  return `  ${parts.join('  ')}`;
}

function dataLine(p: PacketReport): string | undefined {
  const d = p.data;
  if (!d) return undefined;
  const parts: string[] = [`payload ${d.payloadLength} octets`];
  if (d.priority) parts.push('priority');
  if (d.offsetSize !== undefined) parts.push(`offset ${d.offsetSize}`);
  if (p.version === 3) {
    parts.push(d.cookie && d.cookie.length ? `cookie ${hex(d.cookie)}` : 'no cookie');
    if (d.l2SpecificSublayer) parts.push(`sublayer ${d.l2SpecificSublayer.sequenced ? `seq ${d.l2SpecificSublayer.sequence}` : 'unsequenced'}`);
    if (d.framing === 'none') parts.push('(framing unknown: no ICRQ/ICRP in the input; see --cookie-length, --l2-sublayer)');
  }
  if (d.ppp) parts.push(pppLine(d.ppp));
  if (d.ethernet) parts.push(ethernetLine(d.ethernet));
  return `    ${parts.join('  ')}`;
}

export function errorLine(index: number, e: ErrorReport): string {
  return `packet ${index}: ${e.name}: ${e.message}`;
}

/** The lines describing one packet (no trailing newline). */
export function packetText(p: PacketReport): string {
  const lines: string[] = [];
  let head = `packet ${p.index}`;
  if (p.timeNs !== undefined) head += `  ${formatTime(p.timeNs)}`;
  if (p.src !== undefined) head += `  ${endpoint(p.src, p.sport)} > ${endpoint(p.dst, p.dport)}${p.transport === 'ip' ? ' (IP proto 115)' : ''}`;
  lines.push(head);
  if (p.version !== undefined) lines.push(summaryLine(p));
  for (const a of p.avps) lines.push(avpLine(a, p.messageType));
  if (p.unexpected.length) lines.push(`  unexpected in ${p.messageName}: ${p.unexpected.map((a) => `avp[${a.index}] ${a.name}`).join(', ')}`);
  if (p.ignored.length) lines.push(`  ignored (unknown, not mandatory): ${p.ignored.map((a) => `avp[${a.index}] ${a.name}`).join(', ')}`);
  if (p.violation) {
    const v = p.violation;
    const answer = v.scope === 'tunnel' ? 'StopCCN' : 'CDN';
    lines.push(`  violation: the ${v.scope} must be torn down (${answer} result ${v.resultCode} error ${v.errorCode}): ${v.errorMessage}`);
  }
  const data = dataLine(p);
  if (data) lines.push(data);
  if (p.error) lines.push(errorLine(p.index, p.error));
  return lines.join('\n');
}

export function summaryText(report: DecodeReport): string {
  const failed = report.packets.filter((p) => p.error).length;
  const ok = report.packets.length - failed;
  const input = report.input;
  const from = input.kind === 'capture' ? ` (${input.frames} frames in the ${input.format} file, ${input.skipped} not L2TP)` : '';
  return `${report.packets.length} L2TP packets${from}: ${ok} decoded, ${failed} failed`;
}

/** The whole report as text: packets separated by blank lines, a summary line for captures. */
export function renderText(report: DecodeReport): string {
  const blocks = report.packets.map(packetText);
  if (report.input.kind === 'capture') blocks.push(summaryText(report));
  return `${blocks.join('\n\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

function avpJson(a: AvpReport, messageType: number | undefined): { [k: string]: JsonValue } {
  return {
    index: a.index,
    vendorId: a.vendorId,
    type: a.type,
    name: a.name,
    mandatory: a.mandatory,
    hidden: a.hidden,
    value: a.undecoded ? null : toJsonValue(a.value),
    text: avpValueText(a, messageType),
    undecoded: a.undecoded ?? null,
    raw: a.raw ? hex(a.raw) : null,
    verified: a.verified ?? null,
  };
}

/** One packet as a JSON object; keys in a fixed order, all present. */
export function packetJson(p: PacketReport): { [k: string]: JsonValue } {
  const d = p.data;
  return {
    index: p.index,
    timeNs: p.timeNs === undefined ? null : p.timeNs.toString(),
    src: p.src ?? null,
    dst: p.dst ?? null,
    sport: p.sport ?? null,
    dport: p.dport ?? null,
    transport: p.transport,
    length: p.length,
    version: p.version ?? null,
    kind: p.kind ?? null,
    messageType: p.messageType ?? null,
    messageName: p.messageName ?? null,
    tunnelId: p.tunnelId ?? null,
    sessionId: p.sessionId ?? null,
    ns: p.ns ?? null,
    nr: p.nr ?? null,
    avps: p.avps.map((a) => avpJson(a, p.messageType)),
    violation: p.violation ? toJsonValue(p.violation) : null,
    unexpected: p.unexpected.map((a) => avpJson(a, p.messageType)),
    ignored: p.ignored.map((a) => avpJson(a, p.messageType)),
    data: d
      ? {
          payloadLength: d.payloadLength,
          priority: d.priority ?? null,
          offsetSize: d.offsetSize ?? null,
          cookie: d.cookie ? hex(d.cookie) : null,
          l2SpecificSublayer: toJsonValue(d.l2SpecificSublayer),
          framing: d.framing ?? null,
          pseudowireType: d.pseudowireType ?? null,
          ppp: toJsonValue(d.ppp),
          ethernet: toJsonValue(d.ethernet),
        }
      : null,
    error: p.error
      ? { name: p.error.name, message: p.error.message, field: p.error.field ?? null, offset: p.error.offset ?? null }
      : null,
  };
}

function inputJson(i: InputInfo): JsonValue {
  return i.kind === 'hex' ? { kind: 'hex' } : { kind: 'capture', format: i.format, frames: i.frames, skipped: i.skipped };
}

/**
 * The report as one JSON document, one packet per line so large captures stay greppable:
 * `{"input":{...},"packets":[\n{...},\n{...}\n],"summary":{"packets":N,"decoded":N,"failed":N}}`.
 */
export function renderJson(report: DecodeReport): string {
  const failed = report.packets.filter((p) => p.error).length;
  const packets = report.packets.map((p) => JSON.stringify(packetJson(p)));
  const summary = { packets: report.packets.length, decoded: report.packets.length - failed, failed };
  const list = packets.length ? `[\n${packets.join(',\n')}\n]` : '[]';
  return `{"input":${JSON.stringify(inputJson(report.input))},"packets":${list},"summary":${JSON.stringify(summary)}}\n`;
}
