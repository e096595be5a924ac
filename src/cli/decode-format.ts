/**
 * How `l2tpctl decode` shows values: one line of text per AVP value (in the RFC's words: Result Code texts,
 * Protocol Version 1.0, capability bits by name) and JSON-safe copies of the typed values (Buffers as hex,
 * bigints as decimal strings). Also the little it says about data payloads: the PPP protocol (RFC 1661 §2) and
 * control code inside v2 data, the Ethernet header inside an L2TPv3 Ethernet pseudowire.
 */
import {
  Avp,
  BearerBits,
  CircuitStatusBits,
  DataSequencingValues,
  FramingBits,
  L2SpecificSublayerTypes,
  ProxyAuthenTypes,
  PseudowireTypes,
  errorCodeText,
  messageName,
  resultCodeText,
  type AvpSpec,
  type AvpValue,
  type CallErrorsValue,
  type ResultCodeValue,
} from '../protocol/index.js';

/** A value as JSON can carry it: Buffers become lowercase hex, bigints decimal strings, objects recursively. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export function toJsonValue(v: unknown): JsonValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v.toString(10);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = toJsonValue(x);
    return out;
  }
  return String(v);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** "0x00000003 (Synchronous, Asynchronous)"; unknown bits are listed in hex. */
function bitNames(n: number, bits: Readonly<Record<string, number>>, none = 'none'): string {
  const names: string[] = [];
  let rest = n;
  for (const [name, bit] of Object.entries(bits)) {
    if ((n & bit) !== 0) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return `${hex32(n)} (${names.length ? names.join(', ') : none})`;
}

function enumName(n: number, values: Readonly<Record<string, number>>): string {
  const name = Object.entries(values).find(([, v]) => v === n)?.[0];
  return name === undefined ? String(n) : `${n} (${name})`;
}

const PSEUDOWIRE_NAMES: Readonly<Record<string, number>> = {
  'Ethernet VLAN': PseudowireTypes.EthernetVlan,
  Ethernet: PseudowireTypes.Ethernet,
  HDLC: PseudowireTypes.Hdlc,
  PPP: PseudowireTypes.Ppp,
};
/** RFC 2661 §4.4.5 words for the Proxy Authen Type values. */
const PROXY_AUTHEN_NAMES: Readonly<Record<string, number>> = {
  Reserved: ProxyAuthenTypes.Reserved,
  'Textual username/password exchange': ProxyAuthenTypes.TextualExchange,
  'PPP CHAP': ProxyAuthenTypes.PppChap,
  'PPP PAP': ProxyAuthenTypes.PppPap,
  'No Authentication': ProxyAuthenTypes.NoAuthentication,
  'Microsoft CHAP Version 1 (MSCHAPv1)': ProxyAuthenTypes.MsChapV1,
};
/** RFC 3931 §5.4.4 words. */
const SUBLAYER_NAMES: Readonly<Record<string, number>> = {
  'no L2-Specific Sublayer': L2SpecificSublayerTypes.None,
  'Default L2-Specific Sublayer': L2SpecificSublayerTypes.Default,
};
const DATA_SEQUENCING_NAMES: Readonly<Record<string, number>> = {
  'no incoming data packets require sequencing': DataSequencingValues.None,
  'only non-IP data packets require sequencing': DataSequencingValues.NonIpOnly,
  'all incoming data packets require sequencing': DataSequencingValues.All,
};

/** Per-AVP renderings where the plain number says less than the RFC's words. */
const NUMBER_RENDERERS: Partial<Record<string, (n: number) => string>> = {
  [Avp.FramingCapabilities.key]: (n) => bitNames(n, FramingBits),
  [Avp.FramingType.key]: (n) => bitNames(n, FramingBits),
  [Avp.BearerCapabilities.key]: (n) => bitNames(n, BearerBits),
  [Avp.BearerType.key]: (n) => bitNames(n, BearerBits),
  [Avp.ProxyAuthenType.key]: (n) => enumName(n, PROXY_AUTHEN_NAMES),
  [Avp.PseudowireType.key]: (n) => enumName(n, PSEUDOWIRE_NAMES),
  [Avp.L2SpecificSublayer.key]: (n) => enumName(n, SUBLAYER_NAMES),
  [Avp.DataSequencing.key]: (n) => enumName(n, DATA_SEQUENCING_NAMES),
  [Avp.CircuitStatus.key]: (n) => bitNames(n, CircuitStatusBits, 'Inactive'),
  // RFC 3931 §5.4.3: a 32-bit Router ID, in practice an IPv4 address of the LCCE.
  [Avp.RouterId.key]: (n) => `${n} (${[n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.')})`,
};

export function resultCodeLine(messageType: number | undefined, v: ResultCodeValue): string {
  let s = `${v.result} (${resultCodeText(messageType, v.result)})`;
  if (v.error !== undefined) s += `, error ${v.error} (${errorCodeText(v.error)})`;
  if (v.message !== undefined) s += `, message ${JSON.stringify(v.message)}`;
  return s;
}

function callErrorsLine(v: CallErrorsValue): string {
  const parts: string[] = [];
  if (v.crcErrors !== undefined) parts.push(`CRC ${v.crcErrors}`);
  if (v.framingErrors !== undefined) parts.push(`framing ${v.framingErrors}`);
  parts.push(`hardware overruns ${v.hardwareOverruns}`, `buffer overruns ${v.bufferOverruns}`);
  parts.push(`timeouts ${v.timeoutErrors}`, `alignment ${v.alignmentErrors}`);
  return parts.join(', ');
}

function objectLine(v: object): string {
  return Object.entries(v)
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => `${k} ${x instanceof Uint8Array ? hex(x) : typeof x === 'string' ? JSON.stringify(x) : String(x)}`)
    .join(', ');
}

/**
 * One line for a decoded AVP value. `spec` is the table entry (undefined for vendor and unknown AVPs, whose
 * value is raw octets); `messageType` selects the Result Code text space (StopCCN vs CDN).
 */
export function formatAvpValue(spec: AvpSpec | undefined, value: AvpValue, messageType: number | undefined): string {
  if (!spec) return value instanceof Uint8Array ? hexOrEmpty(value) : String(value);
  if (spec.type === Avp.MessageType.type) return `${messageName(value as number)} (${String(value)})`;
  switch (spec.format) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'proxyAuthenId':
      return NUMBER_RENDERERS[spec.key]?.(value as number) ?? String(value);
    case 'u64':
      return (value as bigint).toString(10);
    case 'bytes':
      return bytesLine(value as Buffer);
    case 'string':
      return JSON.stringify(value);
    case 'empty':
      return '(no value)';
    case 'u16list':
      return (value as number[])
        .map((n) => (spec.key === Avp.PseudowireCapabilitiesList.key ? enumName(n, PSEUDOWIRE_NAMES) : String(n)))
        .join(', ');
    case 'resultCode':
      return resultCodeLine(messageType, value as ResultCodeValue);
    case 'protocolVersion': {
      const v = value as { version: number; revision: number };
      return `${v.version}.${v.revision}`;
    }
    case 'q931Cause': {
      const v = value as { cause: number; message: number; advisory?: string };
      return `cause ${v.cause}, message ${v.message}${v.advisory !== undefined ? `, advisory ${JSON.stringify(v.advisory)}` : ''}`;
    }
    case 'callErrors':
      return callErrorsLine(value as CallErrorsValue);
    case 'accm': {
      const v = value as { sendAccm: number; receiveAccm: number };
      return `send ${hex32(v.sendAccm)}, receive ${hex32(v.receiveAccm)}`;
    }
    case 'messageDigest': {
      const v = value as { digestType: number; digest: Buffer };
      const alg = v.digestType === 0 ? 'HMAC-MD5' : v.digestType === 1 ? 'HMAC-SHA-1' : `digest type ${v.digestType}`;
      return `${alg} ${hex(v.digest)}`;
    }
    case 'extendedVendor': {
      const v = value as { vendorId: number; attributeType: number; value: Buffer };
      return `vendor ${v.vendorId} attribute ${v.attributeType}: ${hexOrEmpty(v.value)}`;
    }
    default:
      return typeof value === 'object' ? objectLine(value) : String(value);
  }
}

/** Hex; opaque values that are printable text (Remote End ID, Private Group ID...) also as text. */
function bytesLine(b: Buffer): string {
  const printable = b.length >= 4 && b.every((x) => x >= 0x20 && x < 0x7f);
  return printable ? `${hex(b)} (${JSON.stringify(b.toString('latin1'))})` : hexOrEmpty(b);
}

function hexOrEmpty(b: Uint8Array): string {
  return b.length === 0 ? '(empty)' : hex(b);
}

// -------------------------------------------------------------------------------------------------------------
// Data payloads

/** RFC 1661 §2 / IANA PPP DLL protocol numbers that show up on an LNS. */
export const PPP_PROTOCOLS: Readonly<Record<number, string>> = {
  0x0021: 'IP',
  0x0057: 'IPv6',
  0x8021: 'IPCP',
  0x8057: 'IPv6CP',
  0x80fd: 'CCP',
  0xc021: 'LCP',
  0xc023: 'PAP',
  0xc025: 'LQR',
  0xc223: 'CHAP',
};

/** RFC 1661 §5 codes, shared by LCP and the NCPs (IPCP, IPv6CP, CCP use 1–7). */
const LCP_CODES: Readonly<Record<number, string>> = {
  1: 'Configure-Request',
  2: 'Configure-Ack',
  3: 'Configure-Nak',
  4: 'Configure-Reject',
  5: 'Terminate-Request',
  6: 'Terminate-Ack',
  7: 'Code-Reject',
  8: 'Protocol-Reject',
  9: 'Echo-Request',
  10: 'Echo-Reply',
  11: 'Discard-Request',
};
/** RFC 1334 §2.2 (PAP) and RFC 1994 §4 (CHAP). */
const PAP_CODES: Readonly<Record<number, string>> = { 1: 'Authenticate-Request', 2: 'Authenticate-Ack', 3: 'Authenticate-Nak' };
const CHAP_CODES: Readonly<Record<number, string>> = { 1: 'Challenge', 2: 'Response', 3: 'Success', 4: 'Failure' };
const CODES_BY_PROTOCOL: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  0xc021: LCP_CODES,
  0x8021: LCP_CODES,
  0x8057: LCP_CODES,
  0x80fd: LCP_CODES,
  0xc023: PAP_CODES,
  0xc223: CHAP_CODES,
};

export interface PppInfo {
  /** The frame started with the HDLC-like address/control octets ff 03 (RFC 1662 §3.1). */
  addressControl: boolean;
  protocol: number;
  protocolName: string | null;
  /** For LCP, the NCPs, PAP and CHAP: the packet's Code and Identifier. */
  code: number | null;
  codeName: string | null;
  identifier: number | null;
}

/** The PPP protocol of a PPP frame (with or without ff 03, with a compressed or full protocol field). */
export function describePpp(payload: Buffer): PppInfo | null {
  let o = 0;
  const addressControl = payload.length >= 2 && payload[0] === 0xff && payload[1] === 0x03;
  if (addressControl) o = 2;
  if (payload.length <= o) return null;
  // RFC 1661 §6.5 Protocol-Field-Compression: an odd first octet is a one-octet protocol field.
  let protocol: number;
  if ((payload[o]! & 1) === 1) {
    protocol = payload[o]!;
    o += 1;
  } else {
    if (payload.length < o + 2) return null;
    protocol = payload.readUInt16BE(o);
    o += 2;
  }
  const codes = CODES_BY_PROTOCOL[protocol];
  const hasCode = codes !== undefined && payload.length >= o + 2;
  const code = hasCode ? payload[o]! : null;
  return {
    addressControl,
    protocol,
    protocolName: PPP_PROTOCOLS[protocol] ?? null,
    code,
    codeName: code === null ? null : (codes?.[code] ?? null),
    identifier: hasCode ? payload[o + 1]! : null,
  };
}

export function pppLine(p: PppInfo): string {
  const proto = `0x${p.protocol.toString(16).padStart(4, '0')}${p.protocolName ? ` ${p.protocolName}` : ''}`;
  const code = p.code === null ? '' : ` ${p.codeName ?? `code ${p.code}`} id ${p.identifier}`;
  return `PPP ${proto}${code}`;
}

export interface EthernetInfo {
  dst: string;
  src: string;
  /** 802.1Q VLAN IDs, outermost first. */
  vlans: number[];
  ethertype: number;
}

function mac(b: Buffer, o: number): string {
  return [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The Ethernet header at the start of an L2TPv3 Ethernet pseudowire payload (RFC 4719). */
export function describeEthernet(payload: Buffer): EthernetInfo | null {
  if (payload.length < 14) return null;
  const vlans: number[] = [];
  let o = 12;
  let type = payload.readUInt16BE(o);
  while ((type === 0x8100 || type === 0x88a8) && payload.length >= o + 6 && vlans.length < 2) {
    vlans.push(payload.readUInt16BE(o + 2) & 0x0fff);
    o += 4;
    type = payload.readUInt16BE(o);
  }
  return { dst: mac(payload, 0), src: mac(payload, 6), vlans, ethertype: type };
}

export function ethernetLine(e: EthernetInfo): string {
  const vlan = e.vlans.length ? ` vlan ${e.vlans.join('/')}` : '';
  return `Ethernet ${e.src} > ${e.dst}${vlan} type 0x${e.ethertype.toString(16).padStart(4, '0')}`;
}
