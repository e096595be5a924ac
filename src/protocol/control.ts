/**
 * Control messages: bytes ⇄ typed `ControlMessage`, checked against the message table.
 * RFC 2661 §3.1/§4/§6, RFC 3931 §3.2/§5/§6, RFC 4951 §6.
 */
import { Avp, AVP_BY_TYPE, type AvpKey } from './avp-table.js';
import { decodeAvp, encodeAvp, type AvpDecodeContext, type AvpEncodeContext, type AvpInstance, type ValueOf } from './avp-codec.js';
import { EncodeError, MalformedMessageError } from './errors.js';
import { deriveV3HidingKey } from './hidden.js';
import { V3_DIGEST_OCTETS, V3_DIGEST_TYPE, verifyV3MessageDigest, withV3MessageDigest, type V3DigestAlgorithm, type V3DigestNonces } from './auth.js';
import { peekHeader, writeV2ControlHeader, writeV3ControlHeader, type HeaderInfo, type Transport } from './header.js';
import { MESSAGE_BY_TYPE, messageName, messageRules } from './messages.js';

export interface ControlMessage {
  version: 2 | 3;
  /** v2: the Tunnel ID of the header (the recipient's ID); v3: the Control Connection ID. */
  tunnelId: number;
  /** v2: the Session ID of the header; always 0 in v3 (sessions are named by AVPs). */
  sessionId: number;
  ns: number;
  nr: number;
  /** Undefined for a ZLB (no AVPs at all). */
  messageType: number | undefined;
  /** The Message Type AVP's M bit (RFC 2661 §4.4.1: an unknown type with M set clears the tunnel). */
  messageTypeMandatory: boolean;
  /** Every AVP after Message Type, in wire order. Vendor and unknown AVPs are kept as raw octets. */
  avps: AvpInstance[];
}

/** What RFC 2661 §4.1 / RFC 3931 §5.2 make the receiver do about something it does not know. */
export interface MandatoryViolation {
  /** A session message gets a CDN, a control connection message a StopCCN. */
  scope: 'tunnel' | 'session';
  resultCode: number;
  errorCode: number;
  /** Human-readable text for the Error Message field (the offending attribute, as §5.4.2 asks). */
  errorMessage: string;
}

export interface DecodedControl {
  message: ControlMessage;
  /** Octets the control message occupies (its Length field; trailing octets are ignored). */
  length: number;
  /** Set when the message must tear down its session or tunnel: unknown mandatory AVP or message type. */
  violation: MandatoryViolation | undefined;
  /** Known AVPs the message table does not list for this message (logged, not acted upon). */
  unexpected: AvpInstance[];
  /** Unknown AVPs without the M bit: ignored by the protocol, kept for diagnostics. */
  ignored: AvpInstance[];
  /** Offset in the buffer of the first Message Digest AVP's value (RFC 3931 §5.4.1), for verification. */
  digestOffset: number | undefined;
  /** Whether the message type is in the table for this version. */
  known: boolean;
}

export interface ControlDecodeOptions {
  transport?: Transport;
  /** The configured tunnel secret, to unhide hidden AVPs (for L2TPv3 the hiding key is derived inside). */
  secret?: Uint8Array | undefined;
  /** Keep hidden AVPs undecoded when no secret is given (diagnostic tools) instead of failing. */
  keepHidden?: boolean;
}

export interface ControlEncodeOptions {
  transport?: Transport;
  secret?: Uint8Array | undefined;
  hiddenPadding?: AvpEncodeContext['hiddenPadding'];
  /** L2TPv3 control message authentication: sign with a Message Digest AVP (RFC 3931 §4.3, §5.4.1). */
  digest?: V3Authentication | undefined;
}

/** What signing or checking an L2TPv3 control message needs (see auth.ts for deriving each part). */
export interface V3Authentication {
  algorithm: V3DigestAlgorithm;
  /** `deriveV3AuthKey(secret)`, not the secret itself. */
  key: Uint8Array;
  nonces: V3DigestNonces;
}

const V2_HEADER = 12;
const V3_HEADER = 12;
const MESSAGE_TYPE_AVP_LENGTH = 8;

/** Decode a control message whose header was already checked by `peekHeader`. */
export function decodeControlBody(buf: Buffer, h: HeaderInfo, opts: ControlDecodeOptions = {}): DecodedControl {
  const end = h.messageLength;
  const message: ControlMessage = {
    version: h.version,
    tunnelId: h.tunnelId,
    sessionId: h.sessionId,
    ns: h.ns ?? 0,
    nr: h.nr ?? 0,
    messageType: undefined,
    messageTypeMandatory: true,
    avps: [],
  };
  const out: DecodedControl = {
    message,
    length: end,
    violation: undefined,
    unexpected: [],
    ignored: [],
    digestOffset: undefined,
    known: true,
  };
  let off = h.headerLength;
  if (off === end) return out; // ZLB: RFC 2661 §5.8
  const ctx: AvpDecodeContext = { buf, secret: hidingKey(h.version, opts.secret), keepHidden: opts.keepHidden ?? false, randomVector: undefined };

  // RFC 2661 §4.4.1: the Message Type AVP MUST be the first AVP, unhidden, value 2 octets.
  const [first, firstLen] = decodeAvp(ctx, off, end, 0);
  if (first.vendorId !== 0 || first.type !== Avp.MessageType.type || first.undecoded || firstLen !== MESSAGE_TYPE_AVP_LENGTH) {
    throw new MalformedMessageError('the first AVP is not a Message Type AVP', 'avp[0]', off);
  }
  const type = first.value as number;
  message.messageType = type;
  message.messageTypeMandatory = first.mandatory;
  off += firstLen;

  const rules = messageRules(type, h.version);
  out.known = rules !== undefined;
  const scope = MESSAGE_BY_TYPE[type]?.scope ?? (h.sessionId !== 0 ? 'session' : 'tunnel');
  if (!rules && first.mandatory) {
    out.violation = { scope: 'tunnel', resultCode: 2, errorCode: 3, errorMessage: `unknown mandatory message type ${type}` };
  }

  for (let i = 1; off < end; i++) {
    const [a, len] = decodeAvp(ctx, off, end, i);
    if (a.vendorId === 0 && a.type === Avp.MessageDigest.type && out.digestOffset === undefined) out.digestOffset = off + 6;
    off += len;
    message.avps.push(a);
    const spec = a.vendorId === 0 && !a.undecoded ? AVP_BY_TYPE[a.type] : undefined;
    if (!spec) {
      if (a.mandatory && a.undecoded !== 'hidden') {
        // RFC 2661 §4.1, RFC 3931 §5.2: tear down with Result Code 2, Error Code 8, naming the AVP.
        out.violation ??= { scope, resultCode: 2, errorCode: 8, errorMessage: `unknown mandatory AVP vendor ${a.vendorId} type ${a.type}` };
      } else if (!a.mandatory) {
        out.ignored.push(a);
      }
    } else if (rules && !rules.allowed.has(a.type)) {
      out.unexpected.push(a);
    }
  }
  if (rules) {
    for (const t of rules.required) {
      if (t === Avp.MessageType.type) continue;
      if (!message.avps.some((a) => a.vendorId === 0 && a.type === t)) {
        const spec = AVP_BY_TYPE[t]!;
        throw new MalformedMessageError(`${messageName(type)} lacks the required ${spec.title} AVP`, `avp:${spec.key}`, h.headerLength, type);
      }
    }
  }
  return out;
}

/** Decode a packet that must be a control message (throws MalformedMessageError on a data message). */
export function decodeControl(buf: Uint8Array, opts: ControlDecodeOptions = {}): DecodedControl {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const h = peekHeader(b, opts.transport ?? 'udp');
  if (!h.isControl) throw new MalformedMessageError('a data message where a control message was expected', 'header.flags.T', 0);
  return decodeControlBody(b, h, opts);
}

/**
 * Encode a control message; `ns`/`nr` are written as given (the control channel owns them). With
 * `digest`, the message is signed: RFC 3931 §5.4.1 puts the Message Digest AVP right after Message
 * Type, so one is placed there (or the caller's is reused) and its digest computed over the result.
 */
export function encodeControl(m: ControlMessage, opts: ControlEncodeOptions = {}): Buffer {
  if (!opts.digest) return encodeUnsigned(m, opts);
  if (m.version !== 3 || m.messageType === undefined) throw new EncodeError('only L2TPv3 messages with a Message Type are signed', 'digest', -1);
  const { algorithm } = opts.digest;
  const placeholder: AvpInstance = {
    vendorId: 0,
    type: Avp.MessageDigest.type,
    mandatory: true,
    hidden: false,
    value: { digestType: V3_DIGEST_TYPE[algorithm], digest: Buffer.alloc(V3_DIGEST_OCTETS[algorithm]) },
  };
  const first = m.avps[0];
  const rest = first && first.vendorId === 0 && first.type === Avp.MessageDigest.type ? m.avps.slice(1) : m.avps;
  const wire = encodeUnsigned({ ...m, avps: [placeholder, ...rest] }, opts);
  const prefix = (opts.transport ?? 'udp') === 'ip' ? 4 : 0;
  // Header (12) + Message Type AVP (8) + Message Digest AVP header (6) + Digest Type octet (1).
  const digestOffset = V3_HEADER + MESSAGE_TYPE_AVP_LENGTH + 6 + 1;
  const signed = withV3MessageDigest({ ...opts.digest, message: wire.subarray(prefix), digestOffset });
  signed.copy(wire, prefix);
  return wire;
}

/**
 * Check the Message Digest of a received L2TPv3 message (RFC 3931 §5.4.1: before acting on it;
 * on failure drop it). False when the message carries no digest or the digest does not match.
 */
export function verifyControlDigest(buf: Buffer, d: DecodedControl, auth: V3Authentication, transport: Transport = 'udp'): boolean {
  if (d.digestOffset === undefined || d.message.version !== 3) return false;
  const prefix = transport === 'ip' ? 4 : 0;
  return verifyV3MessageDigest({ ...auth, message: buf.subarray(prefix, d.length), digestOffset: d.digestOffset - prefix + 1 });
}

function encodeUnsigned(m: ControlMessage, opts: ControlEncodeOptions): Buffer {
  const transport = opts.transport ?? 'udp';
  if (m.version === 2 && transport === 'ip') throw new EncodeError('L2TPv2 has no IP encapsulation', 'transport', -1);
  const ctx: AvpEncodeContext = { secret: hidingKey(m.version, opts.secret), randomVector: undefined, hiddenPadding: opts.hiddenPadding };
  const parts: Buffer[] = [];
  let bodyLength = 0;
  if (m.messageType !== undefined) {
    const mt = Buffer.alloc(MESSAGE_TYPE_AVP_LENGTH);
    mt.writeUInt16BE((m.messageTypeMandatory ? 0x8000 : 0) | MESSAGE_TYPE_AVP_LENGTH, 0);
    checkRange(m.messageType, 0xffff, 'messageType');
    mt.writeUInt16BE(m.messageType, 6);
    parts.push(mt);
    bodyLength += mt.length;
    m.avps.forEach((a, i) => {
      const e = encodeAvp(ctx, a, i + 1);
      parts.push(e);
      bodyLength += e.length;
    });
  } else if (m.avps.length > 0) {
    throw new EncodeError('a ZLB carries no AVPs', 'avps', -1);
  }
  checkRange(m.ns, 0xffff, 'ns');
  checkRange(m.nr, 0xffff, 'nr');
  const prefix = transport === 'ip' ? 4 : 0;
  const headerLength = m.version === 2 ? V2_HEADER : V3_HEADER;
  const length = headerLength + bodyLength;
  if (length > 0xffff) throw new EncodeError(`control message of ${length} octets exceeds the Length field`, 'length', -1);
  const out = Buffer.allocUnsafe(prefix + length);
  if (m.version === 2) {
    checkRange(m.tunnelId, 0xffff, 'tunnelId');
    checkRange(m.sessionId, 0xffff, 'sessionId');
    writeV2ControlHeader(out, length, m.tunnelId, m.sessionId, m.ns, m.nr);
  } else {
    checkRange(m.tunnelId, 0xffffffff, 'tunnelId');
    if (m.sessionId !== 0) throw new EncodeError('L2TPv3 control headers carry no Session ID', 'sessionId', -1);
    if (prefix) out.writeUInt32BE(0, 0);
    writeV3ControlHeader(out, prefix, length, m.tunnelId, m.ns, m.nr);
  }
  let o = prefix + headerLength;
  for (const p of parts) {
    p.copy(out, o);
    o += p.length;
  }
  return out;
}

/**
 * RFC 3931 §5.3: L2TPv3 hides with a key derived from the shared secret, HMAC-MD5(secret, 0x01);
 * L2TPv2 (RFC 2661 §4.3) uses the secret itself. The derivation is cached per secret buffer.
 */
const v3HidingKeys = new WeakMap<Uint8Array, Buffer>();
function hidingKey(version: 2 | 3, secret: Uint8Array | undefined): Uint8Array | undefined {
  if (version === 2 || secret === undefined) return secret;
  let k = v3HidingKeys.get(secret);
  if (!k) v3HidingKeys.set(secret, (k = deriveV3HidingKey(secret)));
  return k;
}

function checkRange(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new EncodeError(`${field} ${v} out of range 0..${max}`, field, -1);
}

/** The first value of AVP `key` in `m`, typed by the table. */
export function getAvp<K extends AvpKey>(m: ControlMessage, key: K): ValueOf<K> | undefined {
  const t = Avp[key].type;
  for (const a of m.avps) if (a.vendorId === 0 && a.type === t && !a.undecoded) return a.value as ValueOf<K>;
  return undefined;
}

/** Every value of AVP `key` in `m` (for AVPs that may repeat, e.g. Failover Session State). */
export function getAvps<K extends AvpKey>(m: ControlMessage, key: K): ValueOf<K>[] {
  const t = Avp[key].type;
  return m.avps.filter((a) => a.vendorId === 0 && a.type === t && !a.undecoded).map((a) => a.value as ValueOf<K>);
}

/** A control message for `type` with the given AVPs, Ns/Nr left to the control channel. */
export function controlMessage(
  version: 2 | 3,
  messageType: number | undefined,
  ids: { tunnelId: number; sessionId?: number },
  avps: AvpInstance[] = [],
): ControlMessage {
  return {
    version,
    tunnelId: ids.tunnelId,
    sessionId: ids.sessionId ?? 0,
    ns: 0,
    nr: 0,
    messageType,
    messageTypeMandatory: true,
    avps,
  };
}
