/**
 * THE table of control messages: RFC 2661 §6 (v2), RFC 3931 §6 (v3) and RFC 4951 §6 (FSQ/FSR),
 * with the AVPs each MUST and MAY carry in each version. Decoding checks the MUST list (a missing
 * one is a MalformedMessageError naming it) and reports AVPs outside both lists as `unexpected`
 * so the caller can log them; it does not reject them, because real LACs add AVPs the RFC does not
 * list and the RFC only asks us to act on *unknown* mandatory AVPs (§4.1 / §5.2).
 *
 * `scope` decides what an unknown mandatory AVP tears down (RFC 3931 §5.2): a session message gets
 * a CDN, a control connection message a StopCCN, both with Result Code 2 / Error Code 8.
 */
import { Avp, type AvpKey } from './avp-table.js';

export interface MessageSpec {
  readonly type: number;
  readonly key: string;
  readonly title: string;
  readonly scope: 'tunnel' | 'session';
  readonly v2?: { readonly required: readonly AvpKey[]; readonly optional: readonly AvpKey[] };
  readonly v3?: { readonly required: readonly AvpKey[]; readonly optional: readonly AvpKey[] };
  readonly rfc: string;
}

// Random Vector may accompany any message that carries hidden AVPs; in v3 Message Digest and
// Random Vector are allowed in every message (RFC 3931 §6). RFC 4951 adds Failover Capability to
// SCCRQ/SCCRP, Tunnel Recovery to SCCRQ and Suggested Control Sequence to SCCRP.
const V2_ANY: AvpKey[] = ['RandomVector'];
const V3_ANY: AvpKey[] = ['RandomVector', 'MessageDigest'];

function msg(
  type: number,
  key: string,
  title: string,
  scope: 'tunnel' | 'session',
  rfc: string,
  v2: [AvpKey[], AvpKey[]] | null,
  v3: [AvpKey[], AvpKey[]] | null,
): MessageSpec {
  return {
    type,
    key,
    title,
    scope,
    rfc,
    ...(v2 ? { v2: { required: ['MessageType', ...v2[0]], optional: [...V2_ANY, ...v2[1]] } } : {}),
    ...(v3 ? { v3: { required: ['MessageType', ...v3[0]], optional: [...V3_ANY, ...v3[1]] } } : {}),
  };
}

const FAILOVER_SCCRQ: AvpKey[] = ['FailoverCapability', 'TunnelRecovery'];
const FAILOVER_SCCRP: AvpKey[] = ['FailoverCapability', 'SuggestedControlSequence'];
const V2_ICRQ_OPT: AvpKey[] = ['BearerType', 'PhysicalChannelId', 'CallingNumber', 'CalledNumber', 'SubAddress'];
const V2_ICCN_OPT: AvpKey[] = [
  'InitialReceivedLcpConfreq', 'LastSentLcpConfreq', 'LastReceivedLcpConfreq', 'ProxyAuthenType', 'ProxyAuthenName',
  'ProxyAuthenChallenge', 'ProxyAuthenId', 'ProxyAuthenResponse', 'PrivateGroupId', 'RxConnectSpeed', 'SequencingRequired',
];
const V3_SESSION_IDS: AvpKey[] = ['LocalSessionId', 'RemoteSessionId'];
const V3_SPEEDS: AvpKey[] = ['TxConnectSpeedV3', 'RxConnectSpeedV3'];

export const MessageTypes = {
  SCCRQ: 1,
  SCCRP: 2,
  SCCCN: 3,
  StopCCN: 4,
  HELLO: 6,
  OCRQ: 7,
  OCRP: 8,
  OCCN: 9,
  ICRQ: 10,
  ICRP: 11,
  ICCN: 12,
  CDN: 14,
  WEN: 15,
  SLI: 16,
  ACK: 20,
  FSQ: 21,
  FSR: 22,
} as const;
export type MessageKey = keyof typeof MessageTypes;

export const MESSAGES: readonly MessageSpec[] = [
  msg(1, 'SCCRQ', 'Start-Control-Connection-Request', 'tunnel', '2661 §6.1, 3931 §6.1',
    [['ProtocolVersion', 'HostName', 'FramingCapabilities', 'AssignedTunnelId'],
      ['BearerCapabilities', 'ReceiveWindowSize', 'Challenge', 'TieBreaker', 'FirmwareRevision', 'VendorName', ...FAILOVER_SCCRQ]],
    [['HostName', 'RouterId', 'AssignedControlConnectionId', 'PseudowireCapabilitiesList'],
      ['ControlMessageAuthenticationNonce', 'TieBreaker', 'VendorName', 'ReceiveWindowSize', 'PreferredLanguage', ...FAILOVER_SCCRQ]]),
  msg(2, 'SCCRP', 'Start-Control-Connection-Reply', 'tunnel', '2661 §6.2, 3931 §6.2',
    [['ProtocolVersion', 'FramingCapabilities', 'HostName', 'AssignedTunnelId'],
      ['BearerCapabilities', 'FirmwareRevision', 'VendorName', 'ReceiveWindowSize', 'Challenge', 'ChallengeResponse', ...FAILOVER_SCCRP]],
    [['HostName', 'RouterId', 'AssignedControlConnectionId', 'PseudowireCapabilitiesList'],
      ['ControlMessageAuthenticationNonce', 'VendorName', 'ReceiveWindowSize', 'PreferredLanguage', ...FAILOVER_SCCRP]]),
  msg(3, 'SCCCN', 'Start-Control-Connection-Connected', 'tunnel', '2661 §6.3, 3931 §6.3',
    [[], ['ChallengeResponse']], [[], []]),
  msg(4, 'StopCCN', 'Stop-Control-Connection-Notification', 'tunnel', '2661 §6.4, 3931 §6.4',
    [['AssignedTunnelId', 'ResultCode'], []], [['ResultCode'], ['AssignedControlConnectionId']]),
  msg(6, 'HELLO', 'Hello', 'tunnel', '2661 §6.5, 3931 §6.5', [[], []], [[], []]),
  msg(7, 'OCRQ', 'Outgoing-Call-Request', 'session', '2661 §6.9, 3931 §6.9',
    [['AssignedSessionId', 'CallSerialNumber', 'MinimumBps', 'MaximumBps', 'BearerType', 'FramingType', 'CalledNumber'], ['SubAddress']],
    [[...V3_SESSION_IDS, 'CallSerialNumber', 'PseudowireType', 'RemoteEndId', 'CircuitStatus'],
      ['AssignedCookie', ...V3_SPEEDS, 'TieBreaker', 'L2SpecificSublayer', 'DataSequencing']]),
  msg(8, 'OCRP', 'Outgoing-Call-Reply', 'session', '2661 §6.10, 3931 §6.10',
    [['AssignedSessionId'], ['PhysicalChannelId']],
    [[...V3_SESSION_IDS, 'CircuitStatus'], ['AssignedCookie', 'L2SpecificSublayer', ...V3_SPEEDS, 'DataSequencing', 'PhysicalChannelId']]),
  msg(9, 'OCCN', 'Outgoing-Call-Connected', 'session', '2661 §6.11, 3931 §6.11',
    [['TxConnectSpeed', 'FramingType'], ['RxConnectSpeed', 'SequencingRequired']],
    [V3_SESSION_IDS, ['L2SpecificSublayer', ...V3_SPEEDS, 'DataSequencing', 'CircuitStatus']]),
  msg(10, 'ICRQ', 'Incoming-Call-Request', 'session', '2661 §6.6, 3931 §6.6',
    [['AssignedSessionId', 'CallSerialNumber'], V2_ICRQ_OPT],
    [[...V3_SESSION_IDS, 'CallSerialNumber', 'PseudowireType', 'RemoteEndId', 'CircuitStatus'],
      ['AssignedCookie', 'TieBreaker', 'L2SpecificSublayer', 'DataSequencing', ...V3_SPEEDS, 'PhysicalChannelId']]),
  msg(11, 'ICRP', 'Incoming-Call-Reply', 'session', '2661 §6.7, 3931 §6.7',
    [['AssignedSessionId'], []],
    [[...V3_SESSION_IDS, 'CircuitStatus'], ['AssignedCookie', 'L2SpecificSublayer', 'DataSequencing', ...V3_SPEEDS, 'PhysicalChannelId']]),
  msg(12, 'ICCN', 'Incoming-Call-Connected', 'session', '2661 §6.8, 3931 §6.8',
    [['TxConnectSpeed', 'FramingType'], V2_ICCN_OPT],
    [V3_SESSION_IDS, ['L2SpecificSublayer', 'DataSequencing', ...V3_SPEEDS, 'CircuitStatus']]),
  msg(14, 'CDN', 'Call-Disconnect-Notify', 'session', '2661 §6.12, 3931 §6.12',
    [['ResultCode', 'AssignedSessionId'], ['Q931CauseCode']],
    [['ResultCode', ...V3_SESSION_IDS], []]),
  msg(15, 'WEN', 'WAN-Error-Notify', 'session', '2661 §6.13, 3931 §6.13',
    [['CallErrors'], []], [[...V3_SESSION_IDS, 'CallErrors'], []]),
  msg(16, 'SLI', 'Set-Link-Info', 'session', '2661 §6.14, 3931 §6.14',
    [['Accm'], []], [V3_SESSION_IDS, ['CircuitStatus']]),
  msg(20, 'ACK', 'Explicit-Acknowledgement', 'tunnel', '3931 §6.15', null, [[], []]),
  // RFC 4951 §6: sent on the recovered tunnel to resynchronise sessions; one or more
  // Failover Session State AVPs (each names a session by both IDs).
  msg(21, 'FSQ', 'Failover-Session-Query', 'tunnel', '4951 §6.1', [['FailoverSessionState'], []], [['FailoverSessionState'], []]),
  msg(22, 'FSR', 'Failover-Session-Response', 'tunnel', '4951 §6.2', [['FailoverSessionState'], []], [['FailoverSessionState'], []]),
];

/** Lookup by message type, O(1). */
export const MESSAGE_BY_TYPE: readonly (MessageSpec | undefined)[] = (() => {
  const t: (MessageSpec | undefined)[] = [];
  for (const m of MESSAGES) t[m.type] = m;
  return t;
})();

/** Attribute-type sets per message and version, precomputed so decode checks are array lookups. */
export interface MessageRules {
  required: readonly number[];
  allowed: ReadonlySet<number>;
}
const RULES: Map<number, MessageRules> = new Map();
for (const m of MESSAGES) {
  for (const v of [2, 3] as const) {
    const r = v === 2 ? m.v2 : m.v3;
    if (!r) continue;
    const required = r.required.map((k) => Avp[k].type);
    RULES.set(m.type * 4 + v, { required, allowed: new Set([...required, ...r.optional.map((k) => Avp[k].type)]) });
  }
}
export function messageRules(type: number, version: 2 | 3): MessageRules | undefined {
  return RULES.get(type * 4 + version);
}

export function messageName(type: number | undefined): string {
  if (type === undefined) return 'ZLB';
  return MESSAGE_BY_TYPE[type]?.key ?? `Unknown(${type})`;
}
