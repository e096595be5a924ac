/**
 * Building and judging the session messages (ICRQ/ICRP/ICCN, OCRQ/OCRP/OCCN, CDN): RFC 2661 §6.6–6.12
 * and RFC 3931 §6.6–6.12 (pseudowire type, cookies, L2-Specific Sublayer, circuit status).
 */
import { randomBytes } from 'node:crypto';
import {
  avp,
  BearerBits,
  CdnResult,
  CircuitStatusBits,
  FramingBits,
  GeneralError,
  getAvp,
  L2SpecificSublayerTypes,
  PseudowireTypes,
  type AvpInstance,
  type ControlMessage,
} from '../protocol/index.js';
import { maybeHide } from './handshake.js';
import { resultCodeAvp } from './refusal.js';
import type { EthernetOptions, SessionOptions, TunnelOptions } from './options.js';
import type { CallType } from './session-machine.js';
import type { Refusal, Verdict } from './tunnel-machine.js';

/** The serializable facts about one session (its failover record). */
export interface SessionData {
  localTunnelId: number;
  localSessionId: number;
  peerSessionId: number;
  callType: CallType;
  version: 2 | 3;
  callSerialNumber: number;
  pseudowire: SessionOptions['pseudowire'];
  sequencing: boolean;
  /** Hex: the cookie we assigned (the peer puts it in data it sends us) and the peer's. */
  ourCookie?: string;
  peerCookie?: string;
  l2SpecificSublayer: 'none' | 'default';
  callingNumber?: string;
  calledNumber?: string;
  subAddress?: string;
  remoteEndId?: string;
  txConnectSpeed?: number;
  rxConnectSpeed?: number;
  framingType?: number;
  bearerType?: number;
  physicalChannelId?: number;
  createdAt: number;
  establishedAt?: number;
  name?: string;
  /** PPP profile of a configured session (its session profile's); others use their tunnel's. */
  pppProfile?: string;
  /** A configured session's own session profile: its cookie length and Ethernet interface (else the tunnel's). */
  cookieLength?: 0 | 4 | 8;
  ethernet?: EthernetOptions;
}

const PW_NUMBER: Record<SessionOptions['pseudowire'], number> = {
  ppp: PseudowireTypes.Ppp,
  ethernet: PseudowireTypes.Ethernet,
  ethernet_vlan: PseudowireTypes.EthernetVlan,
};
const PW_NAME = new Map(Object.entries(PW_NUMBER).map(([k, v]) => [v, k as SessionOptions['pseudowire']]));

// Numbers and names the RFC lets us hide from a passive observer.
const HIDE_IN_SESSION = new Set([14, 15, 21, 22, 23, 30, 31, 32, 33, 63, 64, 65, 66]);

/** v3 sessions name both ends by AVP; v2 sessions name ours by Assigned Session ID. */
function ids(s: SessionData): AvpInstance[] {
  return s.version === 2
    ? [avp('AssignedSessionId', s.localSessionId)]
    : [avp('LocalSessionId', s.localSessionId), avp('RemoteSessionId', s.peerSessionId)];
}

function v3Session(s: SessionData, withCookie: boolean): AvpInstance[] {
  const out: AvpInstance[] = [];
  if (withCookie && s.ourCookie) out.push(avp('AssignedCookie', Buffer.from(s.ourCookie, 'hex')));
  out.push(avp('L2SpecificSublayer', s.l2SpecificSublayer === 'default' ? L2SpecificSublayerTypes.Default : L2SpecificSublayerTypes.None));
  out.push(avp('DataSequencing', s.sequencing ? 2 : 0));
  return out;
}

export function newCookie(length: 0 | 4 | 8): string | undefined {
  return length === 0 ? undefined : randomBytes(length).toString('hex');
}

export function buildSessionMessage(kind: 'ICRQ' | 'ICRP' | 'ICCN' | 'OCRQ' | 'OCRP' | 'OCCN', s: SessionData, o: TunnelOptions): AvpInstance[] {
  const v3 = s.version === 3;
  let avps: AvpInstance[];
  switch (kind) {
    case 'ICRQ':
    case 'OCRQ':
      avps = [...ids(s), avp('CallSerialNumber', s.callSerialNumber)];
      if (v3) {
        avps.push(avp('PseudowireType', PW_NUMBER[s.pseudowire]), avp('RemoteEndId', Buffer.from(s.remoteEndId ?? '', 'utf8')));
        avps.push(avp('CircuitStatus', CircuitStatusBits.Active | CircuitStatusBits.New), ...v3Session(s, true));
      } else if (kind === 'ICRQ') {
        avps.push(avp('BearerType', s.bearerType ?? BearerBits.Digital));
        if (s.callingNumber !== undefined) avps.push(avp('CallingNumber', s.callingNumber));
        if (s.calledNumber !== undefined) avps.push(avp('CalledNumber', s.calledNumber));
        if (s.subAddress !== undefined) avps.push(avp('SubAddress', s.subAddress));
      } else {
        avps.push(
          avp('MinimumBps', 0),
          avp('MaximumBps', 0xffffffff),
          avp('BearerType', s.bearerType ?? BearerBits.Digital),
          avp('FramingType', s.framingType ?? FramingBits.Synchronous),
          avp('CalledNumber', s.calledNumber ?? ''),
        );
      }
      break;
    case 'ICRP':
    case 'OCRP':
      avps = [...ids(s)];
      if (v3) avps.push(avp('CircuitStatus', CircuitStatusBits.Active | CircuitStatusBits.New), ...v3Session(s, true));
      break;
    case 'ICCN':
    case 'OCCN':
      if (v3) avps = [...ids(s), avp('CircuitStatus', CircuitStatusBits.Active), ...v3Session(s, false)];
      else {
        avps = [avp('TxConnectSpeed', s.txConnectSpeed ?? 100_000_000), avp('FramingType', s.framingType ?? FramingBits.Synchronous)];
        if (s.rxConnectSpeed !== undefined) avps.push(avp('RxConnectSpeed', s.rxConnectSpeed));
        if (s.sequencing) avps.push(avp('SequencingRequired', true));
      }
      break;
  }
  return maybeHide(o, avps, HIDE_IN_SESSION);
}

/** Judge a session message from the peer and record what it tells us about the session. */
export function judgeSessionMessage(kind: 'ICRQ' | 'ICRP' | 'ICCN' | 'OCRQ' | 'OCRP' | 'OCCN', s: SessionData, o: SessionOptions, m: ControlMessage): Verdict {
  if (s.version === 2) {
    const sid = getAvp(m, 'AssignedSessionId');
    if (sid !== undefined) {
      if (sid === 0) return refuse(CdnResult.GeneralError, GeneralError.InvalidSessionId, 'Assigned Session ID 0');
      s.peerSessionId = sid;
    }
    const serial = getAvp(m, 'CallSerialNumber');
    if (serial !== undefined) s.callSerialNumber = serial;
    s.callingNumber = getAvp(m, 'CallingNumber') ?? s.callingNumber;
    s.calledNumber = getAvp(m, 'CalledNumber') ?? s.calledNumber;
    s.subAddress = getAvp(m, 'SubAddress') ?? s.subAddress;
    s.bearerType = getAvp(m, 'BearerType') ?? s.bearerType;
    s.framingType = getAvp(m, 'FramingType') ?? s.framingType;
    s.txConnectSpeed = getAvp(m, 'TxConnectSpeed') ?? s.txConnectSpeed;
    s.rxConnectSpeed = getAvp(m, 'RxConnectSpeed') ?? s.rxConnectSpeed;
    s.physicalChannelId = getAvp(m, 'PhysicalChannelId') ?? s.physicalChannelId;
    if (getAvp(m, 'SequencingRequired')) s.sequencing = true;
    return { ok: true };
  }
  const local = getAvp(m, 'LocalSessionId');
  if (local !== undefined) {
    if (local === 0) return refuse(CdnResult.GeneralError, GeneralError.InvalidSessionId, 'Local Session ID 0');
    s.peerSessionId = local;
  }
  const serial = getAvp(m, 'CallSerialNumber');
  if (serial !== undefined) s.callSerialNumber = serial;
  const pw = getAvp(m, 'PseudowireType');
  if (pw !== undefined) {
    const name = PW_NAME.get(pw);
    // RFC 3931 §5.4.4 / §6.6: a pseudowire type we do not do is refused with Result Code 14.
    if (!name || name !== o.pseudowire) return refuse(CdnResult.UnsupportedPseudowireType, undefined, `pseudowire type ${pw} not accepted`);
    s.pseudowire = name;
  }
  const remoteEnd = getAvp(m, 'RemoteEndId');
  if (remoteEnd !== undefined) s.remoteEndId = remoteEnd.toString('utf8');
  const cookie = getAvp(m, 'AssignedCookie');
  if (cookie !== undefined) s.peerCookie = cookie.toString('hex');
  const l2ss = getAvp(m, 'L2SpecificSublayer');
  if (l2ss !== undefined) s.l2SpecificSublayer = l2ss === L2SpecificSublayerTypes.Default ? 'default' : 'none';
  const seq = getAvp(m, 'DataSequencing');
  if (seq !== undefined && seq !== 0) {
    // RFC 3931 §5.4.4: sequencing needs a sublayer that carries sequence numbers (Result Code 15).
    if (s.l2SpecificSublayer === 'none') return refuse(CdnResult.SequencingWithoutSublayer, undefined, 'sequencing without an L2-Specific Sublayer');
    s.sequencing = true;
  }
  return { ok: true };
}

export function buildCdn(s: SessionData, r: Refusal): AvpInstance[] {
  return [resultCodeAvp(r), ...ids(s)];
}

function refuse(resultCode: number, errorCode: number | undefined, message: string): Verdict {
  return { ok: false, resultCode, ...(errorCode !== undefined ? { errorCode } : {}), message };
}
