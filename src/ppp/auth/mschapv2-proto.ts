/**
 * MS-CHAPv2 over CHAP (RFC 2759, LCP Authentication-Protocol c223 algorithm 0x81). The exchange is chap-base.ts;
 * here are the packet contents:
 * - Challenge Value: the 16-octet AuthenticatorChallenge (§3).
 * - Response Value (§4): 16 Peer-Challenge ‖ 8 reserved (zero) ‖ 24 NT-Response ‖ 1 Flags = 49 octets.
 * - Success Message (§5): "S=<40 uppercase hex> M=<text>"; the peer MUST check it and end the session if wrong.
 * - Failure Message (§6): "E=691 R=0 C=<32 hex> V=3 M=<text>". R=0: no retry and no password change (§7) here.
 */
import { timingSafeEqual } from 'node:crypto';
import { ChapClientBase, ChapServerBase } from './chap-base.js';
import { PppAuthError } from './errors.js';
import {
  AUTHENTICATOR_CHALLENGE_OCTETS,
  generateAuthenticatorResponse,
  generateNtResponse,
  NT_RESPONSE_OCTETS,
  parseAuthenticatorResponse,
  PEER_CHALLENGE_OCTETS,
} from './mschapv2.js';
import type { AuthRequest, AuthVerdict } from './types.js';

const RESERVED_OCTETS = 8;
export const MSCHAPV2_RESPONSE_OCTETS = PEER_CHALLENGE_OCTETS + RESERVED_OCTETS + NT_RESPONSE_OCTETS + 1;
/** §6 ERROR_AUTHENTICATION_FAILURE. */
export const MSCHAP_ERROR_AUTHENTICATION_FAILURE = 691;

/** Split a Response Value into its §4 fields; PppAuthError if it is not 49 octets. */
export function parseMsChapV2Response(value: Buffer): { peerChallenge: Buffer; ntResponse: Buffer; flags: number } {
  if (value.length !== MSCHAPV2_RESPONSE_OCTETS) {
    throw new PppAuthError(`MS-CHAPv2 Response Value is ${MSCHAPV2_RESPONSE_OCTETS} octets, got ${value.length}`, 'chap.valueSize', 4);
  }
  // The reserved octets "must be zero"; like pppd we do not refuse a peer that sets them: they carry nothing.
  const ntAt = PEER_CHALLENGE_OCTETS + RESERVED_OCTETS;
  return {
    peerChallenge: value.subarray(0, PEER_CHALLENGE_OCTETS),
    ntResponse: value.subarray(ntAt, ntAt + NT_RESPONSE_OCTETS),
    flags: value[MSCHAPV2_RESPONSE_OCTETS - 1]!,
  };
}

/** The fields of a §6 Failure Message; absent ones are undefined. Never throws. */
export function parseMsChapV2Failure(text: string): { error?: number; retry?: boolean; challenge?: string; version?: number; message?: string } {
  const out: { error?: number; retry?: boolean; challenge?: string; version?: number; message?: string } = {};
  const m = / M=(.*)$/s.exec(text) ?? /^M=(.*)$/s.exec(text);
  if (m) out.message = m[1]!;
  const head = m ? text.slice(0, m.index) : text;
  for (const field of head.split(' ')) {
    const [key, value] = [field.slice(0, 2), field.slice(2)];
    if (key === 'E=' && /^\d+$/.test(value)) out.error = Number(value);
    else if (key === 'R=' && /^[01]$/.test(value)) out.retry = value === '1';
    else if (key === 'C=' && /^[0-9A-Fa-f]{32}$/.test(value)) out.challenge = value;
    else if (key === 'V=' && /^\d+$/.test(value)) out.version = Number(value);
  }
  return out;
}

export class MsChapV2Server extends ChapServerBase {
  readonly name = 'mschapv2' as const;
  protected readonly challengeOctets = AUTHENTICATOR_CHALLENGE_OCTETS;
  protected readonly defaultSuccessText = 'Access granted';
  protected readonly defaultFailureText = 'Access denied';

  protected toRequest(user: string, id: number, challenge: Buffer, value: Buffer): AuthRequest {
    const { peerChallenge, ntResponse, flags } = parseMsChapV2Response(value);
    return { protocol: 'mschapv2', user, id, authenticatorChallenge: challenge, peerChallenge, ntResponse, flags };
  }

  protected successMessage(verdict: AuthVerdict, text: string): string | undefined {
    const proof = verdict.authenticatorResponse === undefined ? undefined : parseAuthenticatorResponse(verdict.authenticatorResponse);
    if (proof === undefined) return undefined;
    // §5: hex digits A-F MUST be uppercase, whatever case the verifier (a RADIUS MS-CHAP2-Success) used.
    return `S=${proof.toString('hex').toUpperCase()} M=${text}`;
  }

  protected failureMessage(text: string, challenge: Buffer): string {
    return `E=${MSCHAP_ERROR_AUTHENTICATION_FAILURE} R=0 C=${challenge.toString('hex').toUpperCase()} V=3 M=${text}`;
  }
}

export class MsChapV2Client extends ChapClientBase {
  readonly name = 'mschapv2' as const;
  /** The authenticator response the last Response obliges the authenticator to send. */
  private expected: string | undefined;

  protected responseValue(_id: number, challenge: Buffer): Buffer {
    if (challenge.length !== AUTHENTICATOR_CHALLENGE_OCTETS) {
      throw new PppAuthError(`MS-CHAPv2 Challenge Value is ${AUTHENTICATOR_CHALLENGE_OCTETS} octets, got ${challenge.length}`, 'chap.valueSize', 4);
    }
    const peerChallenge = Buffer.from(this.random(PEER_CHALLENGE_OCTETS));
    const { user, password } = this.credentials;
    const ntResponse = generateNtResponse(challenge, peerChallenge, user, password);
    this.expected = generateAuthenticatorResponse(password, ntResponse, peerChallenge, challenge, user);
    return Buffer.concat([peerChallenge, Buffer.alloc(RESERVED_OCTETS), ntResponse, Buffer.of(0)]);
  }

  /** §5: the message starts with "S=" and the 40 digits; what follows (" M=...") is text for people. */
  protected successProblem(message: Buffer): string | undefined {
    const received = parseAuthenticatorResponse(message.subarray(0, 42).toString('latin1'));
    const mine = parseAuthenticatorResponse(this.expected ?? '');
    if (received === undefined) return 'Success without an authenticator response (RFC 2759 §5)';
    if (mine === undefined || !timingSafeEqual(received, mine)) return 'The authenticator response is wrong: the authenticator does not know the password';
    return undefined;
  }
}
