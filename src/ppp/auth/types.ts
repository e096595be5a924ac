/**
 * The seam between the PPP engine (src/ppp), the authentication protocols (src/ppp/auth) and AAA
 * (src/aaa). The engine runs the authentication phase with an `AuthServer` (LNS side) or an
 * `AuthClient` (subscriber side, load generator); an AuthServer asks a `CredentialVerifier`
 * (RADIUS or the local users file) whether what the peer sent is right.
 */

export type AuthProtocolName = 'pap' | 'chap' | 'mschapv2';

/** PPP protocol numbers of the authentication protocols (RFC 1334/1994, RFC 2759 uses CHAP with algorithm 0x81). */
export const PPP_PAP = 0xc023;
export const PPP_CHAP = 0xc223;
/** LCP Authentication-Protocol option data: CHAP algorithm octet. */
export const CHAP_MD5 = 0x05;
export const CHAP_MSCHAPV2 = 0x81;

/** What the peer proved, handed to the verifier. */
export type AuthRequest =
  | { protocol: 'pap'; user: string; password: string }
  | { protocol: 'chap'; user: string; id: number; challenge: Buffer; response: Buffer }
  | { protocol: 'mschapv2'; user: string; id: number; authenticatorChallenge: Buffer; peerChallenge: Buffer; ntResponse: Buffer; flags: number };

export interface AuthVerdict {
  ok: boolean;
  /** Text for PAP Authenticate-Nak / CHAP Failure / logs. */
  message?: string;
  /** MS-CHAPv2: the 42-character "S=..." authenticator response for the Success packet (RFC 2759 §5). */
  authenticatorResponse?: string;
  /** Anything the verifier learned for the session (Framed-IP-Address, Session-Timeout...), passed through. */
  attributes?: Record<string, unknown>;
}

export interface CredentialVerifier {
  verify(req: AuthRequest): Promise<AuthVerdict>;
}

/** Output of an authentication protocol: a packet (without the PPP protocol field) for `protocol`. */
export type SendAuthPacket = (protocol: number, packet: Buffer) => void;

/** LNS side of one authentication exchange. */
export interface AuthServer {
  readonly name: AuthProtocolName;
  /** Start the phase (CHAP sends its Challenge; PAP waits). */
  start(): void;
  /** A packet of this protocol from the peer. */
  receive(packet: Buffer): void;
  /** Retransmission timer expiry (CHAP Challenge). */
  timeout(): void;
  stop(): void;
}

/** Subscriber side of one authentication exchange. */
export interface AuthClient {
  readonly name: AuthProtocolName;
  start(): void;
  receive(packet: Buffer): void;
  timeout(): void;
  stop(): void;
}

export interface AuthResult {
  ok: boolean;
  user?: string;
  message?: string;
  attributes?: Record<string, unknown>;
}
