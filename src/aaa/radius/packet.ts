/**
 * RADIUS packets ⇄ bytes (RFC 2865 §3, §5): framing, Vendor-Specific sub-attributes (§5.26), hidden
 * attributes, and the authenticators. Encoding always puts Message-Authenticator first (unless told
 * not to): the BlastRADIUS mitigation (2024) asks for it first in every Access-* packet, and it costs
 * nothing elsewhere.
 */
import {
  KNOWN_CODES,
  MESSAGE_AUTHENTICATOR,
  RANDOM_AUTHENTICATOR_CODES,
  RadiusCode,
  REQUEST_CODES,
  specByCode,
  specByName,
  VENDOR_SPECIFIC,
  type AttrSpec,
} from './dictionary.js';
import {
  AUTHENTICATOR_LENGTH,
  hideUserPassword,
  messageAuthenticator,
  packetDigest,
  randomAuthenticator,
  saltDecrypt,
  saltEncrypt,
  sameBytes,
  unhideUserPassword,
} from './crypto.js';
import { RadiusAuthenticatorError, RadiusCodecError, RadiusEncodeError } from './errors.js';
import { decodeValue, encodeValue, type Attribute } from './values.js';

export const HEADER_LENGTH = 20;
/** RFC 2865 §3: the maximum packet length. */
export const MAX_PACKET_LENGTH = 4096;
const ZERO_AUTHENTICATOR = Buffer.alloc(AUTHENTICATOR_LENGTH);

export interface RadiusPacket {
  code: number;
  identifier: number;
  authenticator: Buffer;
  attributes: Attribute[];
}

export interface EncodeOptions {
  secret: string | Buffer;
  /**
   * Access-Request/Status-Server: the Request Authenticator (default: 16 fresh random octets).
   * Replies: the Request Authenticator of the request being answered (required).
   * Accounting/Disconnect/CoA requests: ignored, the authenticator is computed.
   */
  authenticator?: Buffer;
  /** Add a Message-Authenticator (default true). One in `attributes` is always replaced. */
  messageAuthenticator?: boolean;
}

const toSecret = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

function attributeBytes(spec: AttrSpec, value: Buffer): Buffer {
  if (spec.vendor === undefined) {
    if (value.length > 253) throw new RadiusEncodeError(`${spec.name}: value of ${value.length} octets exceeds 253`, spec.name, -1);
    return Buffer.concat([Buffer.from([spec.type, value.length + 2]), value]);
  }
  if (value.length > 247) throw new RadiusEncodeError(`${spec.name}: value of ${value.length} octets exceeds 247`, spec.name, -1);
  const head = Buffer.alloc(8);
  head[0] = VENDOR_SPECIFIC;
  head[1] = value.length + 8;
  head.writeUInt32BE(spec.vendor, 2);
  head[6] = spec.type;
  head[7] = value.length + 2;
  return Buffer.concat([head, value]);
}

/** Encodes a packet; returns its bytes and the authenticator it carries. */
export function encodePacket(
  p: { code: number; identifier: number; attributes: readonly Attribute[] },
  opts: EncodeOptions,
): { buffer: Buffer; authenticator: Buffer } {
  const secret = toSecret(opts.secret);
  if (!KNOWN_CODES.has(p.code)) throw new RadiusEncodeError(`unknown code ${p.code}`, 'code', 0);
  if (!Number.isInteger(p.identifier) || p.identifier < 0 || p.identifier > 255) {
    throw new RadiusEncodeError(`identifier ${p.identifier} is not 0..255`, 'identifier', 1);
  }
  const isRequest = REQUEST_CODES.has(p.code);
  const randomAuth = RANDOM_AUTHENTICATOR_CODES.has(p.code);
  if (!isRequest && opts.authenticator?.length !== AUTHENTICATOR_LENGTH) {
    throw new RadiusEncodeError('a reply needs the 16-octet Request Authenticator of its request', 'authenticator', 4);
  }
  // The authenticator that hiding and Message-Authenticator use (RFC 2865 §5.2, RFC 2869 §5.14, RFC 5176 §3.1).
  const baseAuth = randomAuth ? (opts.authenticator ?? randomAuthenticator()) : isRequest ? ZERO_AUTHENTICATOR : (opts.authenticator as Buffer);
  const withMa = opts.messageAuthenticator ?? true;
  const parts: Buffer[] = [Buffer.alloc(HEADER_LENGTH)];
  if (withMa) parts.push(Buffer.from([MESSAGE_AUTHENTICATOR, 18, ...ZERO_AUTHENTICATOR]));
  for (const [name, value] of p.attributes) {
    const spec = specByName(name);
    if (spec === undefined) throw new RadiusEncodeError(`unknown attribute "${name}"`, name, -1);
    if (spec.type === MESSAGE_AUTHENTICATOR && spec.vendor === undefined) continue;
    let bytes = encodeValue(spec, value);
    if (spec.hidden === 'user-password') {
      if (p.code !== RadiusCode.AccessRequest) throw new RadiusEncodeError(`${name} only travels in Access-Request`, name, -1);
      bytes = hideUserPassword(bytes, secret, baseAuth);
    } else if (spec.hidden === 'salt') {
      bytes = saltEncrypt(bytes, secret, baseAuth);
    }
    parts.push(attributeBytes(spec, bytes));
  }
  const buffer = Buffer.concat(parts);
  if (buffer.length > MAX_PACKET_LENGTH) {
    throw new RadiusEncodeError(`packet of ${buffer.length} octets exceeds ${MAX_PACKET_LENGTH}`, 'header.length', 2);
  }
  buffer[0] = p.code;
  buffer[1] = p.identifier;
  buffer.writeUInt16BE(buffer.length, 2);
  baseAuth.copy(buffer, 4);
  if (withMa) messageAuthenticator(buffer, HEADER_LENGTH + 2, baseAuth, secret).copy(buffer, HEADER_LENGTH + 2);
  // Accounting-style requests and all replies: the authenticator covers the packet, MA included.
  const authenticator = randomAuth ? baseAuth : packetDigest(buffer, baseAuth, secret);
  authenticator.copy(buffer, 4);
  return { buffer, authenticator };
}

interface RawAttribute {
  type: number;
  /** Offset of the value (after type and length). */
  offset: number;
  value: Buffer;
}

/** Checks the header and splits the attributes, without interpreting them. */
function frame(buf: Buffer): { code: number; identifier: number; length: number; raws: RawAttribute[] } {
  if (buf.length < HEADER_LENGTH) throw new RadiusCodecError(`packet of ${buf.length} octets is shorter than the header`, 'header', 0);
  const code = buf[0] as number;
  if (!KNOWN_CODES.has(code)) throw new RadiusCodecError(`unknown code ${code}`, 'header.code', 0);
  const length = buf.readUInt16BE(2);
  // RFC 2865 §3: octets beyond Length are padding and ignored; a Length beyond the datagram is malformed.
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH || length > buf.length) {
    throw new RadiusCodecError(`Length ${length} is outside 20..min(4096, ${buf.length})`, 'header.length', 2);
  }
  const raws: RawAttribute[] = [];
  for (let off = HEADER_LENGTH; off < length; ) {
    if (off + 2 > length) throw new RadiusCodecError('attribute header truncated', `attribute[${raws.length}]`, off);
    const alen = buf[off + 1] as number;
    if (alen < 2 || off + alen > length) {
      throw new RadiusCodecError(`attribute length ${alen} is invalid`, `attribute[${raws.length}].length`, off + 1);
    }
    raws.push({ type: buf[off] as number, offset: off + 2, value: buf.subarray(off + 2, off + alen) });
    off += alen;
  }
  return { code, identifier: buf[1] as number, length, raws };
}

/** The sub-attributes of a Vendor-Specific value, or undefined when it does not follow the §5.26 format. */
function vendorSubs(raw: RawAttribute): { vendor: number; subs: RawAttribute[] } | undefined {
  if (raw.value.length < 6) return undefined;
  const vendor = raw.value.readUInt32BE(0);
  const subs: RawAttribute[] = [];
  for (let off = 4; off < raw.value.length; ) {
    const slen = raw.value[off + 1];
    if (slen === undefined || slen < 2 || off + slen > raw.value.length) return undefined;
    subs.push({ type: raw.value[off] as number, offset: raw.offset + off + 2, value: raw.value.subarray(off + 2, off + slen) });
    off += slen;
  }
  return { vendor, subs };
}

export interface DecodeOptions {
  /** Needed to reveal hidden attributes; without it they stay as their hidden octets (Buffer). */
  secret?: string | Buffer;
  /** For a reply: the Request Authenticator of our request (reveals salt-encrypted attributes). */
  requestAuthenticator?: Buffer;
}

/** Decodes a packet's structure and values. Does NOT check authenticators: see verifyRequest/verifyResponse. */
export function decodePacket(buf: Buffer, opts: DecodeOptions = {}): RadiusPacket {
  const { code, identifier, raws } = frame(buf);
  const authenticator = Buffer.from(buf.subarray(4, 20));
  const secret = opts.secret === undefined ? undefined : toSecret(opts.secret);
  const attributes: Attribute[] = [];
  const add = (spec: AttrSpec, raw: RawAttribute): void => {
    let value = raw.value;
    if (spec.hidden === 'user-password' && secret !== undefined && code === RadiusCode.AccessRequest) {
      value = unhideUserPassword(value, secret, authenticator, raw.offset);
    } else if (spec.hidden === 'salt' && secret !== undefined && opts.requestAuthenticator !== undefined) {
      value = saltDecrypt(value, secret, opts.requestAuthenticator, raw.offset);
    } else if (spec.hidden !== undefined) {
      attributes.push([spec.name, Buffer.from(value)]);
      return;
    }
    const decoded = decodeValue(spec, value);
    if (decoded !== undefined) attributes.push([spec.name, decoded]);
    else attributes.push([invalidName(spec), Buffer.from(value)]);
  };
  for (const raw of raws) {
    if (raw.type !== VENDOR_SPECIFIC) {
      add(specByCode(raw.type), raw);
      continue;
    }
    const vsa = vendorSubs(raw);
    if (vsa === undefined) attributes.push([`Attr-${VENDOR_SPECIFIC}`, Buffer.from(raw.value)]);
    else for (const sub of vsa.subs) add(specByCode(sub.type, vsa.vendor), sub);
  }
  return { code, identifier, authenticator, attributes };
}

/** RFC 6929 §2.8: an attribute whose value is malformed for its type becomes an unknown (raw) attribute. */
function invalidName(spec: AttrSpec): string {
  return spec.vendor === undefined ? `Attr-${spec.type}` : `Attr-26.${spec.vendor}.${spec.type}`;
}

/** Offset of the Message-Authenticator value, undefined when absent; more than one, or a bad length, is malformed. */
function findMessageAuthenticator(buf: Buffer): number | undefined {
  const ma = frame(buf).raws.filter((r) => r.type === MESSAGE_AUTHENTICATOR);
  if (ma.length > 1) throw new RadiusCodecError('more than one Message-Authenticator', 'Message-Authenticator', ma[1]!.offset);
  const first = ma[0];
  if (first !== undefined && first.value.length !== 16) {
    throw new RadiusCodecError(`Message-Authenticator of ${first.value.length} octets`, 'Message-Authenticator', first.offset);
  }
  return first?.offset;
}

function checkMessageAuthenticator(buf: Buffer, authenticator: Buffer, secret: Buffer, required: boolean): void {
  const off = findMessageAuthenticator(buf);
  if (off === undefined) {
    if (required) throw new RadiusAuthenticatorError('Message-Authenticator missing', 'Message-Authenticator', -1);
    return;
  }
  const length = buf.readUInt16BE(2);
  const expected = messageAuthenticator(buf.subarray(0, length), off, authenticator, secret);
  if (!sameBytes(expected, buf.subarray(off, off + 16))) {
    throw new RadiusAuthenticatorError('Message-Authenticator mismatch (wrong secret?)', 'Message-Authenticator', off);
  }
}

/**
 * Checks a request we received: the Request Authenticator of Accounting/Disconnect/CoA requests
 * (RFC 2866 §3, RFC 5176 §3.1) and the Message-Authenticator when present (or when required).
 */
export function verifyRequest(buf: Buffer, secret: string | Buffer, opts: { requireMessageAuthenticator?: boolean } = {}): void {
  const s = toSecret(secret);
  const { code, length } = frame(buf);
  if (!REQUEST_CODES.has(code)) throw new RadiusCodecError(`code ${code} is not a request`, 'header.code', 0);
  const packet = buf.subarray(0, length);
  const random = RANDOM_AUTHENTICATOR_CODES.has(code);
  if (!random && !sameBytes(packetDigest(packet, ZERO_AUTHENTICATOR, s), packet.subarray(4, 20))) {
    throw new RadiusAuthenticatorError('Request Authenticator mismatch (wrong secret?)', 'header.authenticator', 4);
  }
  checkMessageAuthenticator(packet, random ? packet.subarray(4, 20) : ZERO_AUTHENTICATOR, s, opts.requireMessageAuthenticator ?? false);
}

/** Checks a reply to our request: its Response Authenticator (RFC 2865 §3) and Message-Authenticator. */
export function verifyResponse(
  buf: Buffer,
  secret: string | Buffer,
  requestAuthenticator: Buffer,
  opts: { requireMessageAuthenticator?: boolean } = {},
): void {
  const s = toSecret(secret);
  const { code, length } = frame(buf);
  if (REQUEST_CODES.has(code)) throw new RadiusCodecError(`code ${code} is not a reply`, 'header.code', 0);
  const packet = buf.subarray(0, length);
  if (!sameBytes(packetDigest(packet, requestAuthenticator, s), packet.subarray(4, 20))) {
    throw new RadiusAuthenticatorError('Response Authenticator mismatch (wrong secret?)', 'header.authenticator', 4);
  }
  checkMessageAuthenticator(packet, requestAuthenticator, s, opts.requireMessageAuthenticator ?? false);
}
