/**
 * CHAP with MD5 (RFC 1994, LCP Authentication-Protocol c223 algorithm 5): Response Value =
 * MD5(Identifier ‖ secret ‖ Challenge Value) (§4.1). The exchange itself is chap-base.ts.
 */
import { createHash } from 'node:crypto';
import { ChapClientBase, ChapServerBase } from './chap-base.js';
import { credentialOctets } from './common.js';
import { PppAuthError } from './errors.js';
import type { AuthClientOptions, AuthCredentials } from './common.js';
import type { AuthRequest, AuthResult, SendAuthPacket } from './types.js';

/** RFC 1994 §4.1: "16 octets for MD5". */
export const CHAP_MD5_RESPONSE_OCTETS = 16;
/** Our Challenge Value length; §4.1 leaves it open, 16 matches the MD5 output and common practice. */
export const CHAP_MD5_CHALLENGE_OCTETS = 16;

/** The Response Value of RFC 1994 §4.1 with MD5. */
export function chapMd5Response(id: number, secret: Uint8Array, challenge: Uint8Array): Buffer {
  return createHash('md5').update(Uint8Array.of(id & 0xff)).update(secret).update(challenge).digest();
}

export class ChapServer extends ChapServerBase {
  readonly name = 'chap' as const;
  protected readonly challengeOctets = CHAP_MD5_CHALLENGE_OCTETS;
  protected readonly defaultSuccessText = 'Access granted';
  protected readonly defaultFailureText = 'Access denied';

  protected toRequest(user: string, id: number, challenge: Buffer, value: Buffer): AuthRequest {
    if (value.length !== CHAP_MD5_RESPONSE_OCTETS) {
      throw new PppAuthError(`MD5 Response Value is ${CHAP_MD5_RESPONSE_OCTETS} octets, got ${value.length}`, 'chap.valueSize', 4);
    }
    return { protocol: 'chap', user, id, challenge, response: value };
  }

  protected successMessage(_verdict: unknown, text: string): string {
    return text;
  }

  protected failureMessage(text: string): string {
    return text;
  }
}

export class ChapClient extends ChapClientBase {
  readonly name = 'chap' as const;
  private readonly secret: Buffer;

  constructor(send: SendAuthPacket, credentials: AuthCredentials, onResult: (r: AuthResult) => void, options: AuthClientOptions = {}) {
    super(send, credentials, onResult, options);
    this.secret = credentialOctets(credentials.password, 'chap.secret', Number.MAX_SAFE_INTEGER);
    // RFC 1994 §2.3: "the length of the secret MUST be at least 1 octet".
    if (this.secret.length === 0) throw new PppAuthError('the CHAP secret must be at least 1 octet', 'chap.secret');
  }

  protected responseValue(id: number, challenge: Buffer): Buffer {
    return chapMd5Response(id, this.secret, challenge);
  }

  protected successProblem(): undefined {
    return undefined;
  }
}
