/**
 * L2TPv3 control message authentication for the emulated LAC (RFC 3931 §4.3, §5.4.1): sign what we
 * send and check what we receive with the nonces both ends exchanged in SCCRQ/SCCRP. The same
 * protocol functions the daemon's tunnels use; only the glue to the LAC's plain data is here.
 */
import {
  getAvp,
  MessageTypes,
  v3DigestAlgorithmOf,
  v3DigestNonces,
  verifyControlDigest,
  type DecodedControl,
  type V3Authentication,
} from '../src/protocol/index.js';
import type { TunnelData } from '../src/actors/handshake.js';

const hex = (s: string | undefined) => Buffer.from(s ?? '', 'hex');

/** The digest to sign an outgoing message of `messageType` with. */
export function signing(t: TunnelData, key: Buffer, messageType: number): V3Authentication {
  const nonces = v3DigestNonces({ messageType, direction: 'send', localNonce: hex(t.ourNonce), remoteNonce: hex(t.peerNonce) });
  return { algorithm: 'hmac-md5', key, nonces };
}

/** Whether a received message carries a valid digest (RFC 3931 §5.4.1: otherwise drop it). */
export function verified(t: TunnelData, key: Buffer, buf: Buffer, d: DecodedControl): boolean {
  const dg = getAvp(d.message, 'MessageDigest');
  const algorithm = dg && v3DigestAlgorithmOf(dg.digestType);
  if (!algorithm) return false;
  // The SCCRP brings the peer's nonce; it is part of its own digest.
  const nonce = getAvp(d.message, 'ControlMessageAuthenticationNonce');
  if (nonce && !t.peerNonce) t.peerNonce = nonce.toString('hex');
  const nonces = v3DigestNonces({ messageType: d.message.messageType ?? MessageTypes.ACK, direction: 'receive', localNonce: hex(t.ourNonce), remoteNonce: hex(t.peerNonce) });
  return verifyControlDigest(buf, d, { algorithm, key, nonces });
}
