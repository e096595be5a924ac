/**
 * Control connection authentication.
 *
 * L2TPv2 (RFC 2661 §5.1.1, Challenge/Response AVPs of §4.4.3): CHAP-like. A peer that wants to authenticate the
 * other puts a Challenge AVP (11) in its SCCRQ or SCCRP; the other answers in its SCCRP or SCCCN with a Challenge
 * Response AVP (13) = MD5(Identifier ‖ secret ‖ challenge) in RFC 1994 §4.1 order, where the Identifier is the
 * Message Type of the message carrying the response: 2 in an SCCRP, 3 in an SCCCN.
 *
 * L2TPv3 (RFC 3931 §4.3, Message Digest AVP 59 and Control Message Authentication Nonce AVP 73 in §5.4.1):
 *     shared_key     = HMAC_MD5(shared_secret, 0x02)
 *     Message Digest = HMAC_Hash(shared_key, local_nonce ‖ remote_nonce ‖ control_message)   (all but SCCRQ)
 *     Message Digest = HMAC_Hash(shared_key, control_message)                                 (SCCRQ)
 * "local" is the nonce of the LCCE computing the digest for sending; the receiver checks with the two reversed,
 * which is the same byte string: the SENDER's nonce always comes first. This module names them by role
 * (`senderNonce`, `receiverNonce`) so neither side has to think about the reversal.
 * control_message is the whole control message from the first octet of the control header (after the UDP header,
 * or after the 4-octet all-zero Session ID over IP) with every Message Digest value set to zero and the Digest
 * Type octets left as they are. Ns and Nr are covered: a retransmission whose Nr changed needs a new digest.
 *
 * Errors: only the typed errors of errors.ts. Verification answers `false`, never throws, for anything a peer
 * could have put in the bytes; it throws only when the caller's own arguments make no sense.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hmac } from './hmac.js';
import { EncodeError, MalformedAvpError } from './errors.js';
import { MAX_AVP_VALUE_OCTETS } from './hidden.js';

// ---------------------------------------------------------------------------------------------------------------
// L2TPv2 tunnel authentication
// ---------------------------------------------------------------------------------------------------------------

/** Attribute Type of the Challenge AVP (RFC 2661 §4.4.3). */
export const AVP_CHALLENGE = 11;
/** Attribute Type of the Challenge Response AVP (RFC 2661 §4.4.3). */
export const AVP_CHALLENGE_RESPONSE = 13;
/** The Response is "a 16 octet value" (MD5). */
export const CHALLENGE_RESPONSE_OCTETS = 16;
/** RFC 2661 only says "one or more octets"; 16 random octets match the MD5 output and the common practice. */
export const DEFAULT_CHALLENGE_OCTETS = 16;
/** Message types that carry a Challenge Response (RFC 2661 §4.4.3): the Identifier of the CHAP computation. */
export const CHALLENGE_RESPONSE_MESSAGE_TYPE = { SCCRP: 2, SCCCN: 3 } as const;

/** A fresh random Challenge (RFC 2661 §4.4.3: "one or more octets of random data"). */
export function newChallenge(length: number = DEFAULT_CHALLENGE_OCTETS): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > MAX_AVP_VALUE_OCTETS) {
    throw new EncodeError(`challenge length ${String(length)} is not in 1..${MAX_AVP_VALUE_OCTETS}`, 'avp.challenge', -1);
  }
  return randomBytes(length);
}

/**
 * The Challenge Response to put in an SCCRP (messageType 2) or SCCCN (messageType 3):
 * MD5(messageType as one octet ‖ secret ‖ challenge) — RFC 1994 §4.1 order, RFC 2661 §4.4.3 Identifier.
 * Any octet value is accepted as messageType so that a test or a vendor variant can compute other IDs.
 */
export function challengeResponse(messageType: number, secret: Uint8Array, challenge: Uint8Array): Buffer {
  checkChallengeInputs(messageType, secret, challenge);
  return createHash('md5').update(Uint8Array.of(messageType)).update(secret).update(challenge).digest();
}

export interface VerifyChallengeResponseInput {
  /** Message Type of the message that CARRIED the response (2 = SCCRP, 3 = SCCCN). */
  readonly messageType: number;
  readonly secret: Uint8Array;
  /** The challenge WE sent. */
  readonly challenge: Uint8Array;
  /** The Challenge Response AVP value the peer sent (already unhidden if it was hidden). */
  readonly response: Uint8Array;
}

/**
 * Constant-time check of a peer's Challenge Response (RFC 2661 §5.1.1: on mismatch the tunnel MUST be refused).
 * A response of the wrong length is simply wrong: `false`.
 */
export function verifyChallengeResponse(o: VerifyChallengeResponseInput): boolean {
  const expected = challengeResponse(o.messageType, o.secret, o.challenge);
  return o.response.length === expected.length && timingSafeEqual(expected, o.response);
}

function checkChallengeInputs(messageType: number, secret: Uint8Array, challenge: Uint8Array): void {
  if (!Number.isInteger(messageType) || messageType < 0 || messageType > 0xff) {
    throw new EncodeError(`message type ${String(messageType)} is not one octet`, 'avp.challengeResponse', -1);
  }
  if (secret.length === 0) {
    // §5.1.1: "a single shared secret MUST exist between the LAC and LNS".
    throw new EncodeError('tunnel authentication needs a shared secret', 'avp.challengeResponse', -1);
  }
  if (challenge.length === 0) {
    throw new MalformedAvpError('Challenge must be one or more octets', 'avp.challenge', -1, 0, AVP_CHALLENGE);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// L2TPv3 Control Message Authentication
// ---------------------------------------------------------------------------------------------------------------

/** Attribute Type of the Message Digest AVP (RFC 3931 §5.4.1). */
export const AVP_MESSAGE_DIGEST = 59;
/** Attribute Type of the Control Message Authentication Nonce AVP (RFC 3931 §5.4.1). */
export const AVP_CONTROL_MESSAGE_AUTHENTICATION_NONCE = 73;

export type V3DigestAlgorithm = 'hmac-md5' | 'hmac-sha1';

/** Digest Type octet (RFC 3931 §5.4.1): 0 = HMAC-MD5 (MUST), 1 = HMAC-SHA-1 (SHOULD). */
export const V3_DIGEST_TYPE: Readonly<Record<V3DigestAlgorithm, number>> = { 'hmac-md5': 0, 'hmac-sha1': 1 };
/** Digest length per algorithm; the AVP Length is 6 + 1 + this (23 or 27). */
export const V3_DIGEST_OCTETS: Readonly<Record<V3DigestAlgorithm, number>> = { 'hmac-md5': 16, 'hmac-sha1': 20 };
const NODE_HASH: Readonly<Record<V3DigestAlgorithm, string>> = { 'hmac-md5': 'md5', 'hmac-sha1': 'sha1' };

/** The algorithm named by a received Digest Type octet, or undefined for an unknown type. */
export function v3DigestAlgorithmOf(digestType: number): V3DigestAlgorithm | undefined {
  if (digestType === V3_DIGEST_TYPE['hmac-md5']) return 'hmac-md5';
  if (digestType === V3_DIGEST_TYPE['hmac-sha1']) return 'hmac-sha1';
  return undefined;
}

/**
 * `shared_key = HMAC_MD5(shared_secret, 2)` (RFC 3931 §5.4.1), used as the HMAC key for both digest types.
 * Integrity-only mode (§4.3: authentication disabled, digest still sent) uses an empty secret: pass an empty array
 * (the key is then HMAC_MD5("", 2), as Wireshark's verifier computes it) and empty nonces.
 */
export function deriveV3AuthKey(sharedSecret: Uint8Array): Buffer {
  return hmac('md5', sharedSecret, Uint8Array.of(2));
}

/**
 * Which nonces enter the digest (RFC 3931 §5.4.1):
 * - `sccrq`: the SCCRQ is the first message, only its sender's nonce exists and it is inside the message, so
 *   nothing is prepended.
 * - `exchanged`: every other message (SCCRP included, which already knows the SCCRQ nonce): the nonce of the LCCE
 *   that SENT this message, then the nonce of the LCCE it is sent to. In integrity-only mode both are empty.
 * Use {@link v3DigestNonces} to pick the right one from the message type and direction.
 */
export type V3DigestNonces =
  | { readonly kind: 'sccrq' }
  | { readonly kind: 'exchanged'; readonly senderNonce: Uint8Array; readonly receiverNonce: Uint8Array };

/** Message Type of the SCCRQ, the one message digested without nonces. */
const SCCRQ_MESSAGE_TYPE = 1;

/**
 * Picks the nonce input for a message: `localNonce` is the nonce this LCCE advertised in its own SCCRQ/SCCRP,
 * `remoteNonce` the one the peer advertised; `direction` says whether we are signing ('send') or checking
 * ('receive') the message.
 */
export function v3DigestNonces(o: {
  readonly messageType: number;
  readonly direction: 'send' | 'receive';
  readonly localNonce: Uint8Array;
  readonly remoteNonce: Uint8Array;
}): V3DigestNonces {
  if (o.messageType === SCCRQ_MESSAGE_TYPE) return { kind: 'sccrq' };
  return o.direction === 'send'
    ? { kind: 'exchanged', senderNonce: o.localNonce, receiverNonce: o.remoteNonce }
    : { kind: 'exchanged', senderNonce: o.remoteNonce, receiverNonce: o.localNonce };
}

/** Where another Message Digest value sits (§5.4.1 allows a second one right after the first; both are zeroed). */
export interface DigestRange {
  readonly offset: number;
  readonly length: number;
}

export interface V3MessageDigestInput {
  readonly algorithm: V3DigestAlgorithm;
  /** The derived key of {@link deriveV3AuthKey}, not the configured secret. */
  readonly key: Uint8Array;
  /** Complete control message from the first octet of the L2TPv3 control header (UDP: after the UDP header; IP: after the zero Session ID). */
  readonly message: Uint8Array;
  /** Offset in `message` of the first digest octet, i.e. just after the Digest Type octet of the Message Digest AVP. */
  readonly digestOffset: number;
  readonly nonces: V3DigestNonces;
  /** Value ranges of any other Message Digest AVP in the message (at most one by §5.4.1), zeroed too. */
  readonly otherDigests?: readonly DigestRange[];
}

/**
 * The Message Digest value for a control message. `message` is not modified; the digest bytes found in it (whatever
 * they hold) are treated as zeros. Throws EncodeError when the arguments do not describe a digest inside `message`
 * or the Digest Type octet in front of it does not name `algorithm`.
 */
export function computeV3MessageDigest(o: V3MessageDigestInput): Buffer {
  const problem = locateDigests(o);
  if (problem !== undefined) throw new EncodeError(problem, 'avp.messageDigest', o.digestOffset);
  const typeOctet = o.message[o.digestOffset - 1];
  if (typeOctet !== V3_DIGEST_TYPE[o.algorithm]) {
    throw new EncodeError(
      `Digest Type octet ${String(typeOctet)} before the digest does not name ${o.algorithm}`,
      'avp.messageDigest.digestType',
      o.digestOffset - 1,
    );
  }
  return digestOf(o);
}

/** A copy of `message` with the digest written in place: what the encoder puts on the wire. */
export function withV3MessageDigest(o: V3MessageDigestInput): Buffer {
  const digest = computeV3MessageDigest(o);
  const out = Buffer.from(o.message);
  out.set(digest, o.digestOffset);
  return out;
}

/**
 * Checks the Message Digest a peer sent (RFC 3931 §5.4.1: must be done before using anything in the message; on
 * failure the message MUST be dropped). Compares in constant time. `false` when the digest or the Digest Type
 * octet does not match; throws MalformedAvpError only if the digest range does not fit in the message at all.
 * With two configured secrets or two Message Digest AVPs, call once per combination and accept if any is true.
 */
export function verifyV3MessageDigest(o: V3MessageDigestInput): boolean {
  const problem = locateDigests(o);
  if (problem !== undefined) {
    throw new MalformedAvpError(problem, 'avp.messageDigest', o.digestOffset, 0, AVP_MESSAGE_DIGEST);
  }
  if (o.message[o.digestOffset - 1] !== V3_DIGEST_TYPE[o.algorithm]) return false;
  const expected = digestOf(o);
  const received = o.message.subarray(o.digestOffset, o.digestOffset + expected.length);
  return timingSafeEqual(expected, received);
}

/** Describes what is wrong with the digest location(s), or undefined when they fit. */
function locateDigests(o: V3MessageDigestInput): string | undefined {
  const length = V3_DIGEST_OCTETS[o.algorithm] as number | undefined;
  if (length === undefined) return `unknown digest algorithm ${String(o.algorithm)}`;
  const ranges: DigestRange[] = [{ offset: o.digestOffset, length }, ...(o.otherDigests ?? [])];
  for (const r of ranges) {
    // offset ≥ 1: a Digest Type octet precedes every digest value.
    if (!Number.isInteger(r.offset) || !Number.isInteger(r.length) || r.offset < 1 || r.length < 0) {
      return `digest range ${String(r.offset)}+${String(r.length)} is not valid`;
    }
    if (r.offset + r.length > o.message.length) {
      return `digest range ${r.offset}+${r.length} exceeds the ${o.message.length}-octet message`;
    }
  }
  return undefined;
}

function digestOf(o: V3MessageDigestInput): Buffer {
  const zeroed = Buffer.from(o.message);
  zeroed.fill(0, o.digestOffset, o.digestOffset + V3_DIGEST_OCTETS[o.algorithm]);
  for (const r of o.otherDigests ?? []) zeroed.fill(0, r.offset, r.offset + r.length);
  const alg = NODE_HASH[o.algorithm] as 'md5' | 'sha1';
  return o.nonces.kind === 'exchanged' ? hmac(alg, o.key, o.nonces.senderNonce, o.nonces.receiverNonce, zeroed) : hmac(alg, o.key, zeroed);
}
