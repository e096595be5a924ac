/**
 * What the PAP, CHAP and MS-CHAPv2 exchanges share: options, credentials, and the one place that calls a
 * CredentialVerifier (whose promise must never reject unhandled: in a worker that would end the process).
 */
import { randomBytes } from 'node:crypto';
import { PppAuthError } from './errors.js';
import type { AuthRequest, AuthVerdict, CredentialVerifier } from './types.js';

export interface AuthOptions {
  /** Source of random octets (CHAP challenges, first Identifier); `crypto.randomBytes` unless a test seeds it. */
  random?: (octets: number) => Buffer;
  /** Every packet dropped (malformed, meant for the other side, stale Identifier...), for counters and logs. */
  onDiscard?: (reason: PppAuthError) => void;
}

export interface AuthServerOptions extends AuthOptions {
  /**
   * CHAP/MS-CHAPv2: Challenge transmissions before giving up (pppd's chap-max-challenge, 10).
   * PAP: timer expiries spent waiting for an Authenticate-Request before giving up.
   */
  maxTransmissions?: number;
  /** Name field of our CHAP Challenges (RFC 1994 §4.1: the system transmitting the packet). */
  name?: string;
  /** The verifier threw or rejected; the peer is refused either way. For logs. */
  onVerifierError?: (error: unknown) => void;
}

export interface AuthClientOptions extends AuthOptions {
  /**
   * PAP: Authenticate-Request transmissions before giving up (pppd's pap-max-authreq, 10).
   * CHAP/MS-CHAPv2: timer expiries spent waiting for a Challenge or for Success/Failure before giving up.
   */
  maxTransmissions?: number;
}

/** What the subscriber side proves. */
export interface AuthCredentials {
  readonly user: string;
  readonly password: string;
}

export const DEFAULT_MAX_TRANSMISSIONS = 10;

/**
 * Octets from the CSPRNG, drawn a block at a time: a `randomBytes` call per link (a PAP Identifier is
 * one octet) cost more than the rest of the link's PAP exchange in the load generator's profile. The
 * octets handed out are views of a block that is never reused, so a caller may keep them.
 */
const RANDOM_BLOCK_OCTETS = 4096;
let randomBlock = Buffer.alloc(0);
let randomOffset = 0;

function blockRandomBytes(n: number): Buffer {
  if (n > RANDOM_BLOCK_OCTETS / 16) return randomBytes(n);
  if (randomOffset + n > randomBlock.length) {
    randomBlock = randomBytes(RANDOM_BLOCK_OCTETS);
    randomOffset = 0;
  }
  const out = randomBlock.subarray(randomOffset, randomOffset + n);
  randomOffset += n;
  return out;
}

export function randomSource(options: AuthOptions): (octets: number) => Buffer {
  return options.random ?? blockRandomBytes;
}

export function maxTransmissions(options: { maxTransmissions?: number }): number {
  const n = options.maxTransmissions ?? DEFAULT_MAX_TRANSMISSIONS;
  if (!Number.isInteger(n) || n < 1) throw new PppAuthError(`maxTransmissions ${n} is not a positive integer`, 'options.maxTransmissions');
  return n;
}

/** A credential as octets for a one-octet length field; a caller's mistake (not peer data) if it does not fit. */
export function credentialOctets(text: string, field: string, maxOctets: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > maxOctets) throw new PppAuthError(`${bytes.length} octets exceed the ${maxOctets} the field can carry`, field);
  return bytes;
}

/** Text the peer sent (names, passwords, messages) as a string: octets are taken as UTF-8. */
export function peerText(octets: Uint8Array): string {
  return Buffer.from(octets.buffer, octets.byteOffset, octets.length).toString('utf8');
}

/**
 * Ask the verifier and hand its verdict to `then` exactly once. A verifier that throws or rejects refuses the
 * peer (the message does not leak the error to it); the error goes to `onVerifierError`.
 */
export function askVerifier(
  verifier: CredentialVerifier,
  request: AuthRequest,
  onVerifierError: ((error: unknown) => void) | undefined,
  then: (verdict: AuthVerdict) => void,
): void {
  let pending: Promise<AuthVerdict>;
  try {
    pending = Promise.resolve(verifier.verify(request));
  } catch (error) {
    pending = Promise.reject(error);
  }
  const refuse = (error: unknown): void => {
    onVerifierError?.(error);
    then({ ok: false, message: 'Authentication service unavailable' });
  };
  // `send` and `onResult`, called from `then`, are the engine's and must not throw: if they do, the rejection is
  // left unhandled on purpose, so a bug there is loud rather than a session that silently never authenticates.
  void pending.then((verdict: unknown) => {
    if (typeof verdict !== 'object' || verdict === null || typeof (verdict as AuthVerdict).ok !== 'boolean') {
      refuse(new PppAuthError('verifier returned no verdict', 'verdict'));
    } else {
      then(verdict as AuthVerdict);
    }
  }, refuse);
}
