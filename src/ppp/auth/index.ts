/**
 * Authentication for the PPP engine: PAP (RFC 1334), CHAP-MD5 (RFC 1994) and MS-CHAPv2 (RFC 2759).
 *
 * The engine creates one AuthServer (LNS side) or AuthClient (subscriber side) per exchange with the factories
 * below, forwards it the packets of its PPP protocol (`authPacketRecipient` tells which side a packet is for when
 * both directions use the same protocol), calls `timeout()` on each expiry of its restart timer until the result
 * arrives, and `stop()` when the link leaves the Authenticate phase. `receive` and `timeout` never throw for
 * anything the peer sent; dropped packets are reported to `options.onDiscard`.
 */
import type { AuthClientOptions, AuthCredentials, AuthServerOptions } from './common.js';
import { ChapClient, ChapServer } from './chap.js';
import { MsChapV2Client, MsChapV2Server } from './mschapv2-proto.js';
import { PapClient, PapServer } from './pap.js';
import type { AuthClient, AuthProtocolName, AuthResult, AuthServer, CredentialVerifier, SendAuthPacket } from './types.js';

export * from './types.js';
export { PppAuthError } from './errors.js';
export type { AuthClientOptions, AuthCredentials, AuthOptions, AuthServerOptions } from './common.js';
export { authPacketRecipient, ChapCode, decodeChap, decodePap, encodeChap, encodePap, PapCode } from './packets.js';
export type { ChapPacket, PapPacket } from './packets.js';
export { AUTH_PPP_PROTOCOL, authProtocolOfOptionData, authProtocolOptionData } from './lcp-option.js';
export { PapClient, PapServer } from './pap.js';
export { chapMd5Response, ChapClient, ChapServer } from './chap.js';
export { MsChapV2Client, MsChapV2Server, parseMsChapV2Failure } from './mschapv2-proto.js';
export * as mschapv2 from './mschapv2.js';
export { LocalVerifier } from './local-verifier.js';
export type { LocalUser, LocalUsers, LocalVerifierOptions } from './local-verifier.js';

export function createAuthServer(
  name: AuthProtocolName,
  send: SendAuthPacket,
  verifier: CredentialVerifier,
  onResult: (r: AuthResult) => void,
  options: AuthServerOptions = {},
): AuthServer {
  switch (name) {
    case 'pap':
      return new PapServer(send, verifier, onResult, options);
    case 'chap':
      return new ChapServer(send, verifier, onResult, options);
    case 'mschapv2':
      return new MsChapV2Server(send, verifier, onResult, options);
  }
}

export function createAuthClient(
  name: AuthProtocolName,
  send: SendAuthPacket,
  credentials: AuthCredentials,
  onResult: (r: AuthResult) => void,
  options: AuthClientOptions = {},
): AuthClient {
  switch (name) {
    case 'pap':
      return new PapClient(send, credentials, onResult, options);
    case 'chap':
      return new ChapClient(send, credentials, onResult, options);
    case 'mschapv2':
      return new MsChapV2Client(send, credentials, onResult, options);
  }
}
