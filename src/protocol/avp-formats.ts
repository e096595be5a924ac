/**
 * Value formats of AVP Attribute Values: one codec per shape, shared by every AVP of that shape.
 * The AVP table (avp-table.ts) names the format of each AVP; nothing else knows byte layouts.
 *
 * Decoders get the exact value bytes (after unhiding) and must throw only MalformedAvpError
 * (through the `fail` callback, which carries the AVP identity and offset).
 */
import { EncodeError } from './errors.js';

export interface ResultCodeValue {
  result: number;
  error?: number;
  message?: string;
}
export interface ProtocolVersionValue {
  version: number;
  revision: number;
}
export interface Q931CauseValue {
  cause: number;
  /** Cause Msg: the Q.931 message type the cause came in. */
  message: number;
  advisory?: string;
}
/**
 * RFC 2661 §4.4.6 Call Errors and RFC 3931 §5.4.5 Circuit Errors share attribute type 34. The v2
 * layout has six counters, the v3 one drops the first two (CRC, framing). The two lengths differ
 * (26 vs 18 octets), so the value is recognised by its length, not by the protocol version.
 */
export interface CallErrorsValue {
  crcErrors?: number;
  framingErrors?: number;
  hardwareOverruns: number;
  bufferOverruns: number;
  timeoutErrors: number;
  alignmentErrors: number;
}
export interface AccmValue {
  sendAccm: number;
  receiveAccm: number;
}
export interface MessageDigestValue {
  /** 0 = HMAC-MD5, 1 = HMAC-SHA-1 (RFC 3931 §5.4.1). */
  digestType: number;
  digest: Buffer;
}
/** RFC 3931 §5.2: a vendor AVP with a 32-bit vendor ID, carried inside IETF attribute 58. */
export interface ExtendedVendorValue {
  vendorId: number;
  attributeType: number;
  value: Buffer;
}
/** RFC 4951 §5.1 Failover Capability. */
export interface FailoverCapabilityValue {
  /** C bit: control channel failover supported. */
  controlChannel: boolean;
  /** D bit: data channel failover supported. */
  dataChannel: boolean;
  /** Recovery Time, milliseconds. */
  recoveryTimeMs: number;
}
/** RFC 4951 §5.2 Tunnel Recovery: the old tunnel being recovered. */
export interface TunnelRecoveryValue {
  recoverTunnelId: number;
  recoverRemoteTunnelId: number;
}
/** RFC 4951 §5.3 Suggested Control Sequence. */
export interface SuggestedControlSequenceValue {
  suggestedNs: number;
  suggestedNr: number;
}
/** RFC 4951 §5.4 Failover Session State. */
export interface FailoverSessionStateValue {
  sessionId: number;
  remoteSessionId: number;
}

/** Maps each format name to the TypeScript type of its decoded value. */
export interface FormatValues {
  u8: number;
  u16: number;
  u32: number;
  u64: bigint;
  bytes: Buffer;
  string: string;
  empty: true;
  proxyAuthenId: number;
  u16list: number[];
  resultCode: ResultCodeValue;
  protocolVersion: ProtocolVersionValue;
  q931Cause: Q931CauseValue;
  callErrors: CallErrorsValue;
  accm: AccmValue;
  messageDigest: MessageDigestValue;
  extendedVendor: ExtendedVendorValue;
  failoverCapability: FailoverCapabilityValue;
  tunnelRecovery: TunnelRecoveryValue;
  suggestedControlSequence: SuggestedControlSequenceValue;
  failoverSessionState: FailoverSessionStateValue;
}
export type FormatName = keyof FormatValues;
export type AvpValue = FormatValues[FormatName];

export type Fail = (message: string, relOffset?: number) => never;

interface FormatCodec<T> {
  /** Exact value length in octets, or the minimum when `variable` is set. */
  size: number;
  variable: boolean;
  decode(b: Buffer, fail: Fail): T;
  encode(v: T): Buffer;
}

function u32Checked(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(`${what} out of range: ${v}`, what, -1);
  return v;
}
function u16Checked(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new EncodeError(`${what} out of range: ${v}`, what, -1);
  return v;
}
function u8Checked(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new EncodeError(`${what} out of range: ${v}`, what, -1);
  return v;
}

/** Fixed-size records of 16/32-bit fields after `reserved` zero octets (Call Errors, ACCM, RFC 4951 AVPs). */
function record<T extends object>(
  reserved: number,
  fields: ReadonlyArray<readonly [keyof T & string, 2 | 4]>,
): FormatCodec<T> {
  const size = reserved + fields.reduce((n, [, w]) => n + w, 0);
  return {
    size,
    variable: false,
    decode(b) {
      const out: Record<string, number> = {};
      let o = reserved;
      for (const [name, w] of fields) {
        out[name] = w === 2 ? b.readUInt16BE(o) : b.readUInt32BE(o);
        o += w;
      }
      return out as T;
    },
    encode(v) {
      const b = Buffer.alloc(size);
      let o = reserved;
      for (const [name, w] of fields) {
        const x = (v as Record<string, number>)[name] ?? 0;
        if (w === 2) b.writeUInt16BE(u16Checked(x, name), o);
        else b.writeUInt32BE(u32Checked(x, name), o);
        o += w;
      }
      return b;
    },
  };
}

// RFC 4951 §5.1. Bit positions follow the one open implementation found (OpenRPD); the RFC text
// was not available here (see docs/protocol.md, "RFC 4951 uncertainties").
const FAILOVER_C = 0x0001;
const FAILOVER_D = 0x0002;
const failoverCapability: FormatCodec<FailoverCapabilityValue> = {
  size: 6,
  variable: false,
  decode(b) {
    const flags = b.readUInt16BE(0);
    return { controlChannel: (flags & FAILOVER_C) !== 0, dataChannel: (flags & FAILOVER_D) !== 0, recoveryTimeMs: b.readUInt32BE(2) };
  },
  encode(v) {
    const b = Buffer.alloc(6);
    b.writeUInt16BE((v.controlChannel ? FAILOVER_C : 0) | (v.dataChannel ? FAILOVER_D : 0), 0);
    b.writeUInt32BE(u32Checked(v.recoveryTimeMs, 'recoveryTimeMs'), 2);
    return b;
  },
};

const CALL_ERRORS_V2 = record<CallErrorsValue>(2, [
  ['crcErrors', 4],
  ['framingErrors', 4],
  ['hardwareOverruns', 4],
  ['bufferOverruns', 4],
  ['timeoutErrors', 4],
  ['alignmentErrors', 4],
]);
const CALL_ERRORS_V3 = record<CallErrorsValue>(2, [
  ['hardwareOverruns', 4],
  ['bufferOverruns', 4],
  ['timeoutErrors', 4],
  ['alignmentErrors', 4],
]);

export const FORMATS: { [K in FormatName]: FormatCodec<FormatValues[K]> } = {
  u8: {
    size: 1,
    variable: false,
    decode: (b) => b.readUInt8(0),
    encode: (v) => Buffer.of(u8Checked(v, 'value')),
  },
  u16: {
    size: 2,
    variable: false,
    decode: (b) => b.readUInt16BE(0),
    encode: (v) => {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(u16Checked(v, 'value'));
      return b;
    },
  },
  u32: {
    size: 4,
    variable: false,
    decode: (b) => b.readUInt32BE(0),
    encode: (v) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(u32Checked(v, 'value'));
      return b;
    },
  },
  u64: {
    size: 8,
    variable: false,
    decode: (b) => b.readBigUInt64BE(0),
    encode: (v) => {
      if (v < 0n || v > 0xffffffffffffffffn) throw new EncodeError(`u64 out of range: ${v}`, 'value', -1);
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(v);
      return b;
    },
  },
  bytes: { size: 0, variable: true, decode: (b) => Buffer.from(b), encode: (v) => Buffer.from(v) },
  // RFC 3931 §5.4: human-readable text is UTF-8; RFC 2661 host names are octets, in practice ASCII.
  string: { size: 0, variable: true, decode: (b) => b.toString('utf8'), encode: (v) => Buffer.from(v, 'utf8') },
  empty: {
    size: 0,
    variable: false,
    decode: () => true,
    encode: () => Buffer.alloc(0),
  },
  // RFC 2661 §4.4.5 Proxy Authen ID: one reserved octet, then the CHAP identifier.
  proxyAuthenId: {
    size: 2,
    variable: false,
    decode: (b) => b.readUInt8(1),
    encode: (v) => Buffer.of(0, u8Checked(v, 'id')),
  },
  u16list: {
    size: 0,
    variable: true,
    decode: (b, fail) => {
      if (b.length % 2 !== 0) fail(`list of 16-bit values has odd length ${b.length}`);
      const out: number[] = [];
      for (let o = 0; o < b.length; o += 2) out.push(b.readUInt16BE(o));
      return out;
    },
    encode: (v) => {
      const b = Buffer.alloc(v.length * 2);
      v.forEach((x, i) => b.writeUInt16BE(u16Checked(x, `list[${i}]`), i * 2));
      return b;
    },
  },
  resultCode: {
    size: 2,
    variable: true,
    decode: (b, fail) => {
      if (b.length === 3) fail('Result Code AVP with a one-octet Error Code', 2);
      const v: ResultCodeValue = { result: b.readUInt16BE(0) };
      if (b.length >= 4) v.error = b.readUInt16BE(2);
      if (b.length > 4) v.message = b.subarray(4).toString('utf8');
      return v;
    },
    encode: (v) => {
      if (v.message !== undefined && v.error === undefined) {
        throw new EncodeError('Result Code: an Error Message needs an Error Code', 'error', -1);
      }
      const msg = v.message === undefined ? Buffer.alloc(0) : Buffer.from(v.message, 'utf8');
      const b = Buffer.alloc(v.error === undefined ? 2 : 4 + msg.length);
      b.writeUInt16BE(u16Checked(v.result, 'result'), 0);
      if (v.error !== undefined) {
        b.writeUInt16BE(u16Checked(v.error, 'error'), 2);
        msg.copy(b, 4);
      }
      return b;
    },
  },
  protocolVersion: {
    size: 2,
    variable: false,
    decode: (b) => ({ version: b.readUInt8(0), revision: b.readUInt8(1) }),
    encode: (v) => Buffer.of(u8Checked(v.version, 'version'), u8Checked(v.revision, 'revision')),
  },
  q931Cause: {
    size: 3,
    variable: true,
    decode: (b) => {
      const v: Q931CauseValue = { cause: b.readUInt16BE(0), message: b.readUInt8(2) };
      if (b.length > 3) v.advisory = b.subarray(3).toString('utf8');
      return v;
    },
    encode: (v) => {
      const adv = v.advisory === undefined ? Buffer.alloc(0) : Buffer.from(v.advisory, 'utf8');
      const b = Buffer.alloc(3 + adv.length);
      b.writeUInt16BE(u16Checked(v.cause, 'cause'), 0);
      b.writeUInt8(u8Checked(v.message, 'message'), 2);
      adv.copy(b, 3);
      return b;
    },
  },
  callErrors: {
    size: 18,
    variable: true,
    decode: (b, fail) => {
      if (b.length === 26) return CALL_ERRORS_V2.decode(b, fail);
      if (b.length === 18) return CALL_ERRORS_V3.decode(b, fail);
      return fail(`Call/Circuit Errors value must be 26 (RFC 2661) or 18 (RFC 3931) octets, not ${b.length}`);
    },
    encode: (v) =>
      v.crcErrors !== undefined || v.framingErrors !== undefined
        ? CALL_ERRORS_V2.encode({ crcErrors: 0, framingErrors: 0, ...v })
        : CALL_ERRORS_V3.encode(v),
  },
  accm: record<AccmValue>(2, [
    ['sendAccm', 4],
    ['receiveAccm', 4],
  ]),
  messageDigest: {
    size: 1,
    variable: true,
    decode: (b) => ({ digestType: b.readUInt8(0), digest: Buffer.from(b.subarray(1)) }),
    encode: (v) => Buffer.concat([Buffer.of(u8Checked(v.digestType, 'digestType')), v.digest]),
  },
  extendedVendor: {
    size: 6,
    variable: true,
    decode: (b) => ({ vendorId: b.readUInt32BE(0), attributeType: b.readUInt16BE(4), value: Buffer.from(b.subarray(6)) }),
    encode: (v) => {
      const h = Buffer.alloc(6);
      h.writeUInt32BE(u32Checked(v.vendorId, 'vendorId'), 0);
      h.writeUInt16BE(u16Checked(v.attributeType, 'attributeType'), 4);
      return Buffer.concat([h, v.value]);
    },
  },
  failoverCapability,
  // RFC 4951 §5.2–5.4: two reserved octets, then two 32-bit fields (wide enough for L2TPv3 IDs).
  tunnelRecovery: record<TunnelRecoveryValue>(2, [
    ['recoverTunnelId', 4],
    ['recoverRemoteTunnelId', 4],
  ]),
  suggestedControlSequence: record<SuggestedControlSequenceValue>(2, [
    ['suggestedNs', 4],
    ['suggestedNr', 4],
  ]),
  failoverSessionState: record<FailoverSessionStateValue>(2, [
    ['sessionId', 4],
    ['remoteSessionId', 4],
  ]),
};
