/**
 * The MD5 constructions of RADIUS: User-Password hiding (RFC 2865 §5.2), salt encryption of MPPE keys
 * (RFC 2548 §2.4.2), the Request/Response Authenticators (RFC 2865 §3, RFC 2866 §3) and
 * Message-Authenticator (RFC 2869 §5.14, an HMAC-MD5). MD5 is in OpenSSL 3's default provider, so
 * node:crypto does all of it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RadiusCodecError, RadiusEncodeError } from './errors.js';

export const AUTHENTICATOR_LENGTH = 16;

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time equality for authenticators (lengths are public). */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * RFC 2865 §5.2: pad to a multiple of 16 (at most 128 octets), then c(1) = p(1) xor MD5(S + RA),
 * c(i) = p(i) xor MD5(S + c(i-1)).
 */
export function hideUserPassword(password: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  if (password.length > 128) throw new RadiusEncodeError('User-Password is longer than 128 octets', 'User-Password', -1);
  const out = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(out);
  let prev = requestAuthenticator;
  for (let i = 0; i < out.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (out[i + j] as number) ^ (b[j] as number);
    prev = out.subarray(i, i + 16);
  }
  return out;
}

/** Inverse of hideUserPassword; trailing NUL padding is removed. */
export function unhideUserPassword(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer, offset = -1): Buffer {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128) {
    throw new RadiusCodecError(`hidden User-Password length ${hidden.length} is not a multiple of 16 in 16..128`, 'User-Password', offset);
  }
  const out = Buffer.alloc(hidden.length);
  let prev = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (hidden[i + j] as number) ^ (b[j] as number);
    prev = hidden.subarray(i, i + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/**
 * RFC 2548 §2.4.2 (MS-MPPE-Send-Key/Recv-Key): Salt(2, high bit set) ‖ encrypted(Key-Length ‖ Key ‖ pad),
 * b(1) = MD5(S + R + A), where R is the Request Authenticator of the request this packet answers.
 */
export function saltEncrypt(plain: Buffer, secret: Buffer, requestAuthenticator: Buffer, salt = randomBytes(2)): Buffer {
  if (plain.length > 239) throw new RadiusEncodeError('salt-encrypted value longer than 239 octets', 'salt', -1);
  const s = Buffer.from([(salt[0] as number) | 0x80, salt[1] as number]);
  const p = Buffer.alloc(Math.ceil((plain.length + 1) / 16) * 16);
  p[0] = plain.length;
  plain.copy(p, 1);
  let prev: Buffer = Buffer.concat([requestAuthenticator, s]);
  for (let i = 0; i < p.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) p[i + j] = (p[i + j] as number) ^ (b[j] as number);
    prev = p.subarray(i, i + 16);
  }
  return Buffer.concat([s, p]);
}

export function saltDecrypt(value: Buffer, secret: Buffer, requestAuthenticator: Buffer, offset = -1): Buffer {
  const body = value.subarray(2);
  if (value.length < 18 || body.length % 16 !== 0) {
    throw new RadiusCodecError(`salt-encrypted value length ${value.length} is not 2 + a multiple of 16`, 'salt', offset);
  }
  const out = Buffer.alloc(body.length);
  let prev: Buffer = Buffer.concat([requestAuthenticator, value.subarray(0, 2)]);
  for (let i = 0; i < body.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (body[i + j] as number) ^ (b[j] as number);
    prev = body.subarray(i, i + 16);
  }
  const len = out[0] as number;
  if (len > out.length - 1) throw new RadiusCodecError(`salt-encrypted key length ${len} exceeds the data`, 'salt', offset);
  return out.subarray(1, 1 + len);
}

/**
 * MD5(Code ‖ Identifier ‖ Length ‖ authenticator ‖ Attributes ‖ Secret) over `packet` with its
 * Authenticator field replaced by `authenticator`: a Response Authenticator when that is the request's
 * authenticator (RFC 2865 §3), an Accounting/CoA/Disconnect Request Authenticator when it is 16 zeros.
 */
export function packetDigest(packet: Buffer, authenticator: Buffer, secret: Buffer): Buffer {
  return md5(packet.subarray(0, 4), authenticator, packet.subarray(20), secret);
}

/**
 * HMAC-MD5 over the packet with the Message-Authenticator value zeroed (at `maOffset`, the value's
 * first octet) and the Authenticator field replaced by `authenticator` (RFC 2869 §5.14, RFC 5176 §3.1).
 */
export function messageAuthenticator(packet: Buffer, maOffset: number, authenticator: Buffer, secret: Buffer): Buffer {
  return createHmac('md5', secret)
    .update(packet.subarray(0, 4))
    .update(authenticator)
    .update(packet.subarray(20, maOffset))
    .update(Buffer.alloc(16))
    .update(packet.subarray(maOffset + 16))
    .digest();
}

export function randomAuthenticator(): Buffer {
  return randomBytes(AUTHENTICATOR_LENGTH);
}
