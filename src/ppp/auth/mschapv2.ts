/**
 * MS-CHAPv2 computations (RFC 2759 §8), named and ordered as in the RFC's pseudocode so each function can be read
 * against it. The protocol exchange that carries them is mschapv2-proto.ts. MPPE key derivation (RFC 3079) is not
 * here: nothing in this project encrypts PPP payloads.
 *
 * Passwords are Unicode strings hashed as UTF-16LE (§8.3 "0-to-256-unicode-char"). A verifier that stores NT
 * password hashes instead of cleartext (FreeRADIUS's NT-Password) passes `{ ntPasswordHash }` wherever a password
 * goes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { desEncryptBlock, desKeyFrom56Bits } from './des.js';
import { PppAuthError } from './errors.js';
import { md4 } from './md4.js';

/** A cleartext password, or its 16-octet NtPasswordHash. */
export type MsChapSecret = string | { readonly ntPasswordHash: Uint8Array };

export const AUTHENTICATOR_CHALLENGE_OCTETS = 16;
export const PEER_CHALLENGE_OCTETS = 16;
export const NT_RESPONSE_OCTETS = 24;
/** "S=" + 40 hexadecimal digits (§5). */
export const AUTHENTICATOR_RESPONSE_CHARS = 42;

/** §8.7: "Magic server to client signing constant". */
const MAGIC1 = Buffer.from('Magic server to client signing constant', 'latin1');
/** §8.7: "Pad to make it do more than one iteration". */
const MAGIC2 = Buffer.from('Pad to make it do more than one iteration', 'latin1');

function checkLength(value: Uint8Array, octets: number, field: string): void {
  if (value.length !== octets) throw new PppAuthError(`${field} must be ${octets} octets, got ${value.length}`, field);
}

/**
 * §4, §8.2: the user name without a Windows NT domain prefix ("BIGCO\johndoe" → "johndoe"). pppd strips at the
 * last backslash inside its ChallengeHash; so do we, so that a Windows peer that sends its domain still matches.
 */
export function userNameWithoutDomain(userName: string): string {
  const slash = userName.lastIndexOf('\\');
  return slash < 0 ? userName : userName.slice(slash + 1);
}

/** §8.2 ChallengeHash: the first 8 octets of SHA1(PeerChallenge ‖ AuthenticatorChallenge ‖ UserName). */
export function challengeHash(peerChallenge: Uint8Array, authenticatorChallenge: Uint8Array, userName: string): Buffer {
  checkLength(peerChallenge, PEER_CHALLENGE_OCTETS, 'mschapv2.peerChallenge');
  checkLength(authenticatorChallenge, AUTHENTICATOR_CHALLENGE_OCTETS, 'mschapv2.authenticatorChallenge');
  return createHash('sha1')
    .update(peerChallenge)
    .update(authenticatorChallenge)
    .update(Buffer.from(userNameWithoutDomain(userName), 'utf8'))
    .digest()
    .subarray(0, 8);
}

/** §8.3 NtPasswordHash: MD4 of the password in UTF-16LE, without a terminating zero. */
export function ntPasswordHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}

/** §8.4 HashNtPasswordHash: MD4 of the 16-octet password hash. */
export function hashNtPasswordHash(passwordHash: Uint8Array): Buffer {
  checkLength(passwordHash, 16, 'mschapv2.passwordHash');
  return md4(passwordHash);
}

/** §8.5 ChallengeResponse: the challenge DES-encrypted under the three 7-octet thirds of the zero-padded hash. */
export function challengeResponse(challenge: Uint8Array, passwordHash: Uint8Array): Buffer {
  checkLength(challenge, 8, 'mschapv2.challenge');
  checkLength(passwordHash, 16, 'mschapv2.passwordHash');
  const zPasswordHash = Buffer.alloc(21);
  zPasswordHash.set(passwordHash);
  return Buffer.concat([0, 7, 14].map((at) => desEncrypt(challenge, zPasswordHash.subarray(at, at + 7))));
}

/** §8.6 DesEncrypt: one DES-ECB block under a 56-bit key given as 7 octets. */
export function desEncrypt(clear: Uint8Array, key7: Uint8Array): Buffer {
  return desEncryptBlock(desKeyFrom56Bits(key7), clear);
}

function passwordHashOf(secret: MsChapSecret): Buffer {
  if (typeof secret === 'string') return ntPasswordHash(secret);
  checkLength(secret.ntPasswordHash, 16, 'mschapv2.ntPasswordHash');
  return Buffer.from(secret.ntPasswordHash);
}

/** §8.1 GenerateNTResponse: the 24-octet NT-Response the peer puts in its Response packet. */
export function generateNtResponse(
  authenticatorChallenge: Uint8Array,
  peerChallenge: Uint8Array,
  userName: string,
  password: MsChapSecret,
): Buffer {
  const challenge = challengeHash(peerChallenge, authenticatorChallenge, userName);
  return challengeResponse(challenge, passwordHashOf(password));
}

/** §8.7 GenerateAuthenticatorResponse: "S=" and 40 uppercase hexadecimal digits (§5: A-F MUST be uppercase). */
export function generateAuthenticatorResponse(
  password: MsChapSecret,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: string,
): string {
  checkLength(ntResponse, NT_RESPONSE_OCTETS, 'mschapv2.ntResponse');
  const passwordHashHash = hashNtPasswordHash(passwordHashOf(password));
  const digest = createHash('sha1').update(passwordHashHash).update(ntResponse).update(MAGIC1).digest();
  const challenge = challengeHash(peerChallenge, authenticatorChallenge, userName);
  const final = createHash('sha1').update(digest).update(challenge).update(MAGIC2).digest();
  return `S=${final.toString('hex').toUpperCase()}`;
}

/**
 * §8.8 CheckAuthenticatorResponse: does the authenticator's "S=..." prove it knows the password? The comparison
 * is on the 20 decoded octets, in constant time; lowercase hex is accepted (§5 says uppercase, and being strict
 * about case would prove nothing more about the password). Anything malformed is simply `false`.
 */
export function checkAuthenticatorResponse(
  password: MsChapSecret,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: string,
  receivedResponse: string,
): boolean {
  const received = parseAuthenticatorResponse(receivedResponse);
  if (received === undefined) return false;
  const mine = Buffer.from(
    generateAuthenticatorResponse(password, ntResponse, peerChallenge, authenticatorChallenge, userName).slice(2),
    'hex',
  );
  return timingSafeEqual(mine, received);
}

/** The 20 octets of an "S=<40 hex>" string, or undefined if it is not exactly that. */
export function parseAuthenticatorResponse(text: string): Buffer | undefined {
  if (!/^S=[0-9A-Fa-f]{40}$/.test(text)) return undefined;
  return Buffer.from(text.slice(2), 'hex');
}
