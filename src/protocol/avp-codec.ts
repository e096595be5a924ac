/**
 * AVP framing (RFC 2661 §4.1, RFC 3931 §5.1): M/H bits, 10-bit length, vendor ID, attribute type,
 * value — plus hiding (§4.3 / §5.3) with the most recent Random Vector of the message.
 */
import { AVP_BY_TYPE, Avp, type AvpKey, type AvpSpec } from './avp-table.js';
import { FORMATS, type AvpValue, type FormatValues } from './avp-formats.js';
import { EncodeError, HiddenAvpError, MalformedAvpError } from './errors.js';
import { hideAvpValue, unhideAvpValue } from './hidden.js';

export const AVP_HEADER_LENGTH = 6;
const FLAG_M = 0x8000;
const FLAG_H = 0x4000;
const RESERVED_BITS = 0x3c00;
const LENGTH_MASK = 0x03ff;

/** One AVP as decoded or to be encoded. */
export interface AvpInstance {
  vendorId: number;
  type: number;
  mandatory: boolean;
  hidden: boolean;
  /** Typed value for AVPs in the table; raw octets for vendor and unknown AVPs. */
  value: AvpValue;
  /**
   * Set by the decoder when the AVP could not be interpreted: a hidden AVP without a secret
   * (`value` holds the ciphertext) or one with reserved header bits set, which RFC 2661 §4.1
   * says to treat as unrecognised (`value` holds the raw octets).
   */
  undecoded?: 'hidden' | 'reserved-bits';
}

export type ValueOf<K extends AvpKey> = FormatValues[(typeof Avp)[K]['format']];

/** An AVP for the table entry `key`, with the M bit the RFC asks senders to set. */
export function avp<K extends AvpKey>(key: K, value: ValueOf<K>, o: { hidden?: boolean; mandatory?: boolean } = {}): AvpInstance {
  const spec: AvpSpec = Avp[key];
  return { vendorId: 0, type: spec.type, mandatory: o.mandatory ?? spec.mandatory, hidden: o.hidden ?? false, value };
}

export interface AvpDecodeContext {
  buf: Buffer;
  secret: Uint8Array | undefined;
  /** Keep hidden AVPs as ciphertext when there is no secret (diagnostics) instead of failing. */
  keepHidden: boolean;
  randomVector: Buffer | undefined;
}

/**
 * Decode the AVP at `off`. Returns the AVP and its total length. `index` only serves the error's
 * field path.
 */
export function decodeAvp(ctx: AvpDecodeContext, off: number, end: number, index: number): [AvpInstance, number] {
  const b = ctx.buf;
  const field = `avp[${index}]`;
  if (end - off < AVP_HEADER_LENGTH) {
    throw new MalformedAvpError(`${end - off} trailing octets are too few for an AVP header`, field, off, -1, -1);
  }
  const word = b.readUInt16BE(off);
  const length = word & LENGTH_MASK;
  const vendorId = b.readUInt16BE(off + 2);
  const type = b.readUInt16BE(off + 4);
  const bad = (msg: string, rel = 0): never => {
    throw new MalformedAvpError(msg, `${field}.value`, off + AVP_HEADER_LENGTH + rel, vendorId, type);
  };
  if (length < AVP_HEADER_LENGTH) throw new MalformedAvpError(`AVP length ${length} is below 6`, `${field}.length`, off, vendorId, type);
  if (off + length > end) {
    throw new MalformedAvpError(`AVP length ${length} runs past the message end`, `${field}.length`, off, vendorId, type);
  }
  const mandatory = (word & FLAG_M) !== 0;
  const hidden = (word & FLAG_H) !== 0;
  let raw = b.subarray(off + AVP_HEADER_LENGTH, off + length);
  const spec = vendorId === 0 ? AVP_BY_TYPE[type] : undefined;
  if ((word & RESERVED_BITS) !== 0) {
    return [{ vendorId, type, mandatory, hidden, value: Buffer.from(raw), undecoded: 'reserved-bits' }, length];
  }
  if (hidden) {
    if (spec && !spec.hidable) bad(`${spec.title} AVP must not be hidden`);
    if (!ctx.secret || !ctx.randomVector) {
      if (ctx.keepHidden) return [{ vendorId, type, mandatory, hidden, value: Buffer.from(raw), undecoded: 'hidden' }, length];
      const why = ctx.secret ? 'no Random Vector AVP precedes it' : 'no shared secret is configured';
      throw new HiddenAvpError(`hidden AVP cannot be unhidden: ${why}`, `${field}.value`, off + AVP_HEADER_LENGTH, vendorId, type);
    }
    raw = unhideAvpValue({
      attributeType: type,
      secret: ctx.secret,
      randomVector: ctx.randomVector,
      ciphertext: raw,
      field: `${field}.value`,
      offset: off + AVP_HEADER_LENGTH,
      vendorId,
    });
  }
  if (!spec) return [{ vendorId, type, mandatory, hidden, value: Buffer.from(raw) }, length];
  const value = decodeValue(spec, raw, bad);
  // RFC 2661 §4.3: a hidden AVP uses the Random Vector most closely preceding it.
  if (spec.type === Avp.RandomVector.type) ctx.randomVector = value as Buffer;
  return [{ vendorId, type, mandatory, hidden, value }, length];
}

function decodeValue(spec: AvpSpec, raw: Buffer, bad: (msg: string, rel?: number) => never): AvpValue {
  const f = FORMATS[spec.format];
  if (f.variable ? raw.length < f.size : raw.length !== f.size) {
    bad(`${spec.title} value of ${raw.length} octets; expected ${f.variable ? 'at least ' : ''}${f.size}`);
  }
  const min = spec.length?.min;
  const max = spec.length?.max;
  if (min !== undefined && raw.length < min) bad(`${spec.title} value of ${raw.length} octets is below ${min}`);
  if (max !== undefined && raw.length > max) bad(`${spec.title} value of ${raw.length} octets is above ${max}`);
  return f.decode(raw, bad);
}

export interface AvpEncodeContext {
  secret: Uint8Array | undefined;
  randomVector: Buffer | undefined;
  /** Padding for hidden values (tests pass fixed octets); random when absent. */
  hiddenPadding?: ((attributeType: number, valueLength: number) => Uint8Array) | undefined;
}

/** The encoded value octets of an AVP (before hiding). */
export function encodeValue(a: AvpInstance, index: number): Buffer {
  const spec = a.vendorId === 0 ? AVP_BY_TYPE[a.type] : undefined;
  if (!spec || a.undecoded) {
    if (!Buffer.isBuffer(a.value) && !(a.value instanceof Uint8Array)) {
      throw new EncodeError(`AVP ${a.vendorId}:${a.type} is not in the table: its value must be raw octets`, `avp[${index}].value`, -1);
    }
    return Buffer.from(a.value as Uint8Array);
  }
  const codec = FORMATS[spec.format] as { encode(v: AvpValue): Buffer };
  const v = codec.encode(a.value);
  const min = spec.length?.min;
  const max = spec.length?.max;
  if ((min !== undefined && v.length < min) || (max !== undefined && v.length > max)) {
    throw new EncodeError(`${spec.title} value of ${v.length} octets is outside ${min ?? 0}..${max ?? '∞'}`, `avp[${index}].value`, -1);
  }
  return v;
}

/** Encode one AVP (header + possibly hidden value) as a buffer. */
export function encodeAvp(ctx: AvpEncodeContext, a: AvpInstance, index: number): Buffer {
  let value = encodeValue(a, index);
  const spec = a.vendorId === 0 ? AVP_BY_TYPE[a.type] : undefined;
  if (spec?.type === Avp.RandomVector.type) ctx.randomVector = value;
  if (a.hidden && a.undecoded !== 'hidden') {
    if (spec && !spec.hidable) throw new EncodeError(`${spec.title} AVP must not be hidden`, `avp[${index}].hidden`, -1);
    if (!ctx.secret) throw new EncodeError('hiding an AVP needs the shared secret', `avp[${index}].hidden`, -1);
    if (!ctx.randomVector) throw new EncodeError('hiding an AVP needs a Random Vector AVP before it', `avp[${index}].hidden`, -1);
    const padding = ctx.hiddenPadding?.(a.type, value.length);
    value = hideAvpValue({
      attributeType: a.type,
      secret: ctx.secret,
      randomVector: ctx.randomVector,
      value,
      ...(padding ? { padding } : {}),
    });
  }
  const length = AVP_HEADER_LENGTH + value.length;
  if (length > LENGTH_MASK) throw new EncodeError(`AVP of ${length} octets exceeds the 1023-octet limit`, `avp[${index}].length`, -1);
  if (!Number.isInteger(a.vendorId) || a.vendorId < 0 || a.vendorId > 0xffff) {
    throw new EncodeError(`vendor ID ${a.vendorId} out of range`, `avp[${index}].vendorId`, -1);
  }
  if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0xffff) throw new EncodeError(`attribute type ${a.type} out of range`, `avp[${index}].type`, -1);
  const out = Buffer.allocUnsafe(length);
  out.writeUInt16BE((a.mandatory ? FLAG_M : 0) | (a.hidden ? FLAG_H : 0) | length, 0);
  out.writeUInt16BE(a.vendorId, 2);
  out.writeUInt16BE(a.type, 4);
  value.copy(out, AVP_HEADER_LENGTH);
  return out;
}
