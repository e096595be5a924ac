/**
 * Building and judging the control connection messages (SCCRQ, SCCRP, SCCCN, StopCCN, HELLO):
 * RFC 2661 §6.1–6.5 and §5.1.1 (challenge), RFC 3931 §6.1–6.5 and §4.3 (nonces), RFC 2661 §4.4.3
 * (Protocol Version). Pure functions over the tunnel's plain data; the tunnel sends what they build
 * and feeds the verdicts to its state machine.
 */
import { randomBytes } from 'node:crypto';
import {
  avp,
  challengeResponse,
  getAvp,
  MessageTypes,
  newChallenge,
  PseudowireTypes,
  StopCcnResult,
  verifyChallengeResponse,
  type AvpInstance,
  type ControlMessage,
} from '../protocol/index.js';
import type { TunnelOptions } from './options.js';
import { resultCodeAvp } from './refusal.js';
import type { Refusal, Verdict } from './tunnel-machine.js';

/** The serializable facts about one tunnel (its failover record, with the channel snapshot). */
export interface TunnelData {
  localTunnelId: number;
  peerTunnelId: number;
  version: 2 | 3;
  role: 'initiator' | 'responder';
  local: { address: string; port: number };
  peer: { address: string; port: number };
  peerHostName?: string;
  peerVendorName?: string;
  peerRouterId?: number;
  peerFirmwareRevision?: number;
  peerReceiveWindowSize?: number;
  peerPseudowires?: number[];
  /** Hex octets: the Challenge we sent, the one we received, v3 nonces. */
  ourChallenge?: string;
  peerChallenge?: string;
  ourNonce?: string;
  peerNonce?: string;
  createdAt: number;
  establishedAt?: number;
  /** Names for operators: the tunnel profile, the configured tunnel name (locally created tunnels). */
  profile: string;
  name?: string;
  persistent: boolean;
  /** Hex: the Tie Breaker of our SCCRQ (RFC 2661 §4.4.3), when we initiated. */
  tieBreaker?: string;
  /** We offered L2TPv3 and fell back to L2TPv2 (RFC 3931 §4.7 peers that only speak v2). */
  fellBackToV2?: boolean;
}

const FRAMING_SYNC_ASYNC = 0x3;
const PW_CAPS = [PseudowireTypes.Ppp, PseudowireTypes.Ethernet, PseudowireTypes.EthernetVlan];
const FIRMWARE_REVISION = 0x0100;

/** AVPs we hide when the profile says so: everything the RFC allows, after a Random Vector. */
export function maybeHide(o: TunnelOptions, avps: AvpInstance[], hidable: ReadonlySet<number>): AvpInstance[] {
  if (!o.hideAvps || !o.secret) return avps;
  return [avp('RandomVector', randomBytes(16)), ...avps.map((a) => (hidable.has(a.type) && a.vendorId === 0 ? { ...a, hidden: true } : a))];
}
// Hiding the IDs and names a passive observer would otherwise read (RFC 2661 §4.3's purpose).
const HIDE_IN_HANDSHAKE = new Set([9, 61, 8, 11, 13]);

/**
 * SCCRQ and SCCRP carry the same identity and capabilities (RFC 2661 §6.1/§6.2, RFC 3931 §6.1/§6.2);
 * the SCCRP adds the answer to the peer's Challenge. With challenge authentication we send our own
 * Challenge (v2) or nonce (v3) in either.
 */
function startControlConnection(t: TunnelData, o: TunnelOptions, messageType: 1 | 2): AvpInstance[] {
  const avps: AvpInstance[] = [];
  const challenging = o.authMode === 'challenge' && o.secret !== undefined;
  if (t.version === 2) {
    avps.push(
      avp('ProtocolVersion', { version: 1, revision: 0 }),
      avp('HostName', o.hostName),
      avp('FramingCapabilities', FRAMING_SYNC_ASYNC),
      avp('AssignedTunnelId', t.localTunnelId),
      avp('ReceiveWindowSize', o.receiveWindowSize),
      avp('FirmwareRevision', FIRMWARE_REVISION),
      avp('VendorName', o.vendorName),
    );
    if (messageType === MessageTypes.SCCRP && t.peerChallenge && o.secret) {
      avps.push(avp('ChallengeResponse', challengeResponse(MessageTypes.SCCRP, o.secret, Buffer.from(t.peerChallenge, 'hex'))));
    }
    if (challenging) {
      const c = newChallenge();
      t.ourChallenge = c.toString('hex');
      avps.push(avp('Challenge', c));
    }
  } else {
    avps.push(
      avp('HostName', o.hostName),
      avp('RouterId', o.routerId),
      avp('AssignedControlConnectionId', t.localTunnelId),
      avp('PseudowireCapabilitiesList', PW_CAPS),
      avp('ReceiveWindowSize', o.receiveWindowSize),
      avp('VendorName', o.vendorName),
    );
    if (challenging) {
      const n = randomBytes(16);
      t.ourNonce = n.toString('hex');
      avps.push(avp('ControlMessageAuthenticationNonce', n));
    }
  }
  return maybeHide(o, avps, HIDE_IN_HANDSHAKE);
}

/** Our SCCRQ carries a Tie Breaker: one tunnel per pair of peers if both call at once (§4.4.3). */
export function buildSccrq(t: TunnelData, o: TunnelOptions): AvpInstance[] {
  t.tieBreaker ??= randomBytes(8).toString('hex');
  return [...startControlConnection(t, o, MessageTypes.SCCRQ), avp('TieBreaker', Buffer.from(t.tieBreaker, 'hex'))];
}

/**
 * RFC 2661 §4.4.3 / RFC 3931 §5.4.3: an SCCRQ arrives while ours to the same peer is outstanding.
 * 'ours' — we win, the peer discards its tunnel: ignore its SCCRQ; 'theirs' — we silently discard
 * ours and answer; 'both' — equal values, both discard; 'separate' — no tie breaker on our side.
 */
export function tieBreak(ours: string | undefined, theirs: Buffer | undefined): 'ours' | 'theirs' | 'both' | 'separate' {
  if (ours === undefined) return theirs === undefined ? 'separate' : 'theirs';
  if (theirs === undefined) return 'ours';
  const c = Buffer.compare(Buffer.from(ours, 'hex'), theirs);
  return c < 0 ? 'ours' : c > 0 ? 'theirs' : 'both';
}

export function buildSccrp(t: TunnelData, o: TunnelOptions): AvpInstance[] {
  return startControlConnection(t, o, MessageTypes.SCCRP);
}

/** Record what the SCCRQ says about the peer and decide whether to answer with an SCCRP. */
export function judgeSccrq(t: TunnelData, o: TunnelOptions, m: ControlMessage): Verdict {
  readPeerIdentity(t, m);
  if (t.version === 2) {
    const pv = getAvp(m, 'ProtocolVersion');
    if (!pv || pv.version !== 1 || pv.revision !== 0) {
      // RFC 2661 §4.4.3: refuse with Result Code 5 and the highest version we support as Error Code.
      return { ok: false, resultCode: StopCcnResult.UnsupportedProtocolVersion, errorCode: 0x0100, message: 'only L2TP 1.0 (version 2) is supported here' };
    }
  }
  return readPeerSecrets(t, o, m) ?? { ok: true };
}

/**
 * The peer's Challenge (v2, answered in our SCCRP/SCCCN) and nonce (v3, part of every digest) from
 * its SCCRQ or SCCRP; a refusal when we cannot answer or the peer will not authenticate.
 */
function readPeerSecrets(t: TunnelData, o: TunnelOptions, m: ControlMessage): Verdict | undefined {
  const challenge = getAvp(m, 'Challenge');
  if (challenge) {
    if (!o.secret) return { ok: false, resultCode: StopCcnResult.NotAuthorized, errorCode: 0, message: 'challenge received but no secret is configured' };
    t.peerChallenge = challenge.toString('hex');
  }
  const nonce = getAvp(m, 'ControlMessageAuthenticationNonce');
  if (nonce) t.peerNonce = nonce.toString('hex');
  if (t.version === 3 && o.authMode === 'challenge' && !nonce) {
    return { ok: false, resultCode: StopCcnResult.NotAuthorized, errorCode: 0, message: 'control message authentication required (no nonce)' };
  }
  return undefined;
}

export function judgeSccrp(t: TunnelData, o: TunnelOptions, m: ControlMessage): Verdict {
  readPeerIdentity(t, m);
  return checkResponse(t, o, m, MessageTypes.SCCRP) ?? readPeerSecrets(t, o, m) ?? { ok: true };
}

export function buildScccn(t: TunnelData, o: TunnelOptions): AvpInstance[] {
  if (t.version === 2 && t.peerChallenge && o.secret) {
    return maybeHide(o, [avp('ChallengeResponse', challengeResponse(MessageTypes.SCCCN, o.secret, Buffer.from(t.peerChallenge, 'hex')))], HIDE_IN_HANDSHAKE);
  }
  return [];
}

export function judgeScccn(t: TunnelData, o: TunnelOptions, m: ControlMessage): Verdict {
  return checkResponse(t, o, m, MessageTypes.SCCCN) ?? { ok: true };
}

/** RFC 2661 §5.1.1: the peer proves the secret by answering our Challenge (2 in SCCRP, 3 in SCCCN). */
function checkResponse(t: TunnelData, o: TunnelOptions, m: ControlMessage, messageType: number): Verdict | undefined {
  if (t.version !== 2 || !t.ourChallenge || !o.secret) return undefined;
  const response = getAvp(m, 'ChallengeResponse');
  const ok =
    response !== undefined &&
    verifyChallengeResponse({ messageType, secret: o.secret, challenge: Buffer.from(t.ourChallenge, 'hex'), response });
  if (ok) return undefined;
  return {
    ok: false,
    resultCode: StopCcnResult.NotAuthorized,
    errorCode: 0,
    message: response ? 'invalid challenge response' : 'challenge response missing',
  };
}

function readPeerIdentity(t: TunnelData, m: ControlMessage): void {
  const host = getAvp(m, 'HostName');
  if (host !== undefined) t.peerHostName = host;
  const vendor = getAvp(m, 'VendorName');
  if (vendor !== undefined) t.peerVendorName = vendor;
  const fw = getAvp(m, 'FirmwareRevision');
  if (fw !== undefined) t.peerFirmwareRevision = fw;
  const rws = getAvp(m, 'ReceiveWindowSize');
  if (rws !== undefined) t.peerReceiveWindowSize = rws;
  if (t.version === 2) {
    const id = getAvp(m, 'AssignedTunnelId');
    if (id !== undefined) t.peerTunnelId = id;
  } else {
    const id = getAvp(m, 'AssignedControlConnectionId');
    if (id !== undefined) t.peerTunnelId = id;
    const rid = getAvp(m, 'RouterId');
    if (rid !== undefined) t.peerRouterId = rid;
    const pws = getAvp(m, 'PseudowireCapabilitiesList');
    if (pws !== undefined) t.peerPseudowires = pws;
  }
}

export function buildStopCcn(t: TunnelData, result: Refusal): AvpInstance[] {
  const rc = resultCodeAvp(result);
  // RFC 2661 §6.4: Assigned Tunnel ID is required; RFC 3931 §6.4: the Assigned Control Connection ID
  // MUST be present when sent after an SCCRQ/SCCRP.
  return t.version === 2 ? [avp('AssignedTunnelId', t.localTunnelId), rc] : [avp('AssignedControlConnectionId', t.localTunnelId), rc];
}
