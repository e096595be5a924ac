/**
 * AVP hiding (RFC 2661 §4.3; RFC 3931 §5.3 uses the same stream with a derived key).
 *
 * The value of a hidden AVP is the Hidden AVP Subformat
 *     Original Length (2 octets) ‖ Original Value ‖ Padding
 * XORed, 16 octets at a time, with an MD5 key stream:
 *     b1 = MD5(AttributeType(2 octets, network order) ‖ S ‖ RV)      c1 = p1 xor b1
 *     bi = MD5(S ‖ c(i-1))                                          ci = pi xor bi
 * S is the shared secret (L2TPv2) or the derived key of {@link deriveV3HidingKey} (L2TPv3), RV the value of the
 * last Random Vector AVP before the hidden AVP. The chain runs over the previous CIPHERTEXT block, never the
 * plaintext: a peer that chains over plaintext (as at least one deployed LNS does) agrees with us on the first 16
 * octets only, so only values whose subformat exceeds 16 octets (value > 14 octets) show the difference.
 * The last block may be short: only the octets present are XORed (§4.3 "only the actual octets present in the
 * Subformat are modified"), and as it is the last one nothing chains from it.
 *
 * Errors: only {@link HiddenAvpError} (unhiding) and {@link EncodeError} (hiding) are thrown, never a RangeError
 * from a Buffer or a TypeError from node:crypto.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { hmac } from './hmac.js';
import { EncodeError, HiddenAvpError } from './errors.js';

/** MD5 output, hence the block size of the key stream. */
export const HIDING_BLOCK_OCTETS = 16;
/** The Original Length field that starts the Hidden AVP Subformat. */
export const ORIGINAL_LENGTH_OCTETS = 2;
/** The AVP Length field is 10 bits and counts the 6-octet AVP header: an AVP value holds at most 1017 octets. */
export const MAX_AVP_VALUE_OCTETS = 0x3ff - 6;
/** Hence the largest value that can be hidden (its subformat adds the 2-octet Original Length). */
export const MAX_HIDDEN_VALUE_OCTETS = MAX_AVP_VALUE_OCTETS - ORIGINAL_LENGTH_OCTETS;

export interface HideAvpValueInput {
  /** Attribute Type of the AVP being hidden; it keys the first block (§4.3), so it is 0..65535. */
  readonly attributeType: number;
  /** L2TPv2: the tunnel secret as configured. L2TPv3: `deriveV3HidingKey(secret)`. Must not be empty. */
  readonly secret: Uint8Array;
  /** Value of the Random Vector AVP placed before this AVP in the same message. Must not be empty. */
  readonly randomVector: Uint8Array;
  /** The cleartext Attribute Value. */
  readonly value: Uint8Array;
  /** Explicit padding (tests, or a caller with its own policy). Omitted: random padding, see {@link randomPadding}. */
  readonly padding?: Uint8Array;
}

export interface UnhideAvpValueInput {
  readonly attributeType: number;
  /** As for {@link HideAvpValueInput.secret}. An empty secret means "no secret configured": refused. */
  readonly secret: Uint8Array;
  /** Value of the LAST Random Vector AVP before this AVP (§4.3 "On receipt"). */
  readonly randomVector: Uint8Array;
  /** The Attribute Value field of the hidden AVP as received. */
  readonly ciphertext: Uint8Array;
  /** For the error: dotted path of the AVP, e.g. `avp[4].value`. */
  readonly field?: string;
  /** For the error: byte offset of the AVP value within the packet. */
  readonly offset?: number;
  /** For the error: Vendor ID of the AVP (0 = IETF). */
  readonly vendorId?: number;
}

/**
 * RFC 3931 §5.3: L2TPv3 hides with `shared_key = HMAC_MD5(shared_secret, 1)` (one octet of value 1), not with the
 * raw secret as L2TPv2 does. Pass the result as `secret` to {@link hideAvpValue}/{@link unhideAvpValue}.
 */
export function deriveV3HidingKey(sharedSecret: Uint8Array): Buffer {
  return hmac('md5', sharedSecret, Uint8Array.of(1));
}

/** Returns the hidden Attribute Value: the encrypted Hidden AVP Subformat. */
export function hideAvpValue(o: HideAvpValueInput): Buffer {
  const field = 'avp.value';
  if (!isUint16(o.attributeType)) {
    throw new EncodeError(`attribute type ${String(o.attributeType)} is not a 16-bit value`, field, -1);
  }
  if (o.secret.length === 0) {
    // §4.3: "The H bit MUST only be set if a shared secret exists".
    throw new EncodeError(`cannot hide attribute ${o.attributeType}: no shared secret`, field, -1);
  }
  if (o.randomVector.length === 0) {
    // An empty RV makes the key stream a constant per attribute type and secret: refuse to send one.
    throw new EncodeError(`cannot hide attribute ${o.attributeType}: empty Random Vector`, field, -1);
  }
  if (o.value.length > MAX_HIDDEN_VALUE_OCTETS) {
    throw new EncodeError(
      `attribute ${o.attributeType}: ${o.value.length}-octet value cannot be hidden (max ${MAX_HIDDEN_VALUE_OCTETS})`,
      field,
      -1,
    );
  }
  const padding = o.padding ?? randomPadding(o.value.length);
  const subformatLength = ORIGINAL_LENGTH_OCTETS + o.value.length + padding.length;
  if (subformatLength > MAX_AVP_VALUE_OCTETS) {
    throw new EncodeError(
      `attribute ${o.attributeType}: hidden subformat of ${subformatLength} octets exceeds ${MAX_AVP_VALUE_OCTETS}`,
      field,
      -1,
    );
  }
  const subformat = Buffer.allocUnsafe(subformatLength);
  subformat.writeUInt16BE(o.value.length, 0);
  subformat.set(o.value, ORIGINAL_LENGTH_OCTETS);
  subformat.set(padding, ORIGINAL_LENGTH_OCTETS + o.value.length);
  return applyKeyStream(o.attributeType, o.secret, o.randomVector, subformat, 'hide');
}

/** Returns the original Attribute Value of a hidden AVP. */
export function unhideAvpValue(o: UnhideAvpValueInput): Buffer {
  const field = o.field ?? 'avp.value';
  const offset = o.offset ?? -1;
  const vendorId = o.vendorId ?? 0;
  const fail = (why: string): HiddenAvpError =>
    new HiddenAvpError(`cannot unhide attribute ${String(o.attributeType)}: ${why}`, field, offset, vendorId, o.attributeType);
  if (!isUint16(o.attributeType)) throw fail('attribute type is not a 16-bit value');
  if (o.secret.length === 0) throw fail('no shared secret configured');
  if (o.ciphertext.length < ORIGINAL_LENGTH_OCTETS) {
    throw fail(`${o.ciphertext.length} octets cannot hold the 2-octet Original Length`);
  }
  const subformat = applyKeyStream(o.attributeType, o.secret, o.randomVector, o.ciphertext, 'unhide');
  const originalLength = subformat.readUInt16BE(0);
  const available = subformat.length - ORIGINAL_LENGTH_OCTETS;
  if (originalLength > available) {
    // With a wrong secret or Random Vector the decrypted length is noise and nearly always lands here.
    throw fail(`Original Length ${originalLength} exceeds the ${available} octets present (wrong secret or Random Vector?)`);
  }
  return subformat.subarray(ORIGINAL_LENGTH_OCTETS, ORIGINAL_LENGTH_OCTETS + originalLength);
}

/**
 * Random padding used when the caller gives none. §4.3 pads "to mask the size of the data being hidden": the
 * values worth hiding are user names, passwords and CHAP responses, whose exact length is itself a hint. We round
 * the subformat up to the next 16-octet boundary (so lengths are only known to within a block, as RADIUS
 * User-Password does) and then add 0, 1 or 2 further whole blocks chosen at random, so a value near a boundary is
 * not pinned to one bucket either. Whole blocks keep the cost at most 48 octets per AVP. Near the 1017-octet AVP
 * ceiling the padding shrinks to fit.
 */
export function randomPadding(valueLength: number): Buffer {
  const base = ORIGINAL_LENGTH_OCTETS + valueLength;
  const roundUp = (HIDING_BLOCK_OCTETS - (base % HIDING_BLOCK_OCTETS)) % HIDING_BLOCK_OCTETS;
  const wanted = roundUp + HIDING_BLOCK_OCTETS * randomInt(0, 3);
  const room = Math.max(0, MAX_AVP_VALUE_OCTETS - base);
  return randomBytes(Math.min(wanted, room));
}

/**
 * XOR `input` with the §4.3 key stream. The chaining input of block i+1 is the ciphertext of block i: the output
 * block when hiding, the input block when unhiding. Only full blocks chain (a short block is necessarily the last).
 */
function applyKeyStream(
  attributeType: number,
  secret: Uint8Array,
  randomVector: Uint8Array,
  input: Uint8Array,
  direction: 'hide' | 'unhide',
): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  const typeOctets = Buffer.allocUnsafe(2);
  typeOctets.writeUInt16BE(attributeType, 0);
  let keyBlock = createHash('md5').update(typeOctets).update(secret).update(randomVector).digest();
  for (let start = 0; start < input.length; start += HIDING_BLOCK_OCTETS) {
    const end = Math.min(start + HIDING_BLOCK_OCTETS, input.length);
    for (let i = start; i < end; i++) {
      out[i] = (input[i] ?? 0) ^ (keyBlock[i - start] ?? 0);
    }
    if (end < input.length) {
      const cipherBlock = direction === 'hide' ? out.subarray(start, end) : input.subarray(start, end);
      keyBlock = createHash('md5').update(secret).update(cipherBlock).digest();
    }
  }
  return out;
}

function isUint16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}
