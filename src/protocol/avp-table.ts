/**
 * THE table of IETF AVPs (vendor ID 0): RFC 2661 §4.4 (types 0–39), RFC 3931 §5.4 (58–75) and
 * RFC 4951 §5 (76–79). Every other part of the code base refers to AVPs through this table.
 *
 * Columns:
 * - `format`: value layout (avp-formats.ts); `v3` renames AVPs RFC 3931 renamed (15 Serial Number,
 *   34 Circuit Errors, whose shorter layout the format recognises by length).
 * - `mandatory`: the M bit we SEND. RFC 2661 says MUST; RFC 3931 §5.2 says SHOULD and a receiver
 *   never validates it, so on receive the M bit only matters for AVPs we do not recognise.
 * - `hidable`: whether the RFC allows the H bit. Receiving a hidden AVP the RFC forbids to hide is
 *   a malformed AVP (it could not be unhidden meaningfully: e.g. Random Vector, Message Type).
 * - `length`: allowed value lengths in octets (before hiding) beyond what the format implies.
 * - `versions`: which protocol versions define it (decoding a v2-only AVP in v3 still works: it
 *   is known, merely unexpected in that message).
 */
import type { FormatName } from './avp-formats.js';

export interface AvpSpec {
  readonly type: number;
  readonly key: string;
  readonly title: string;
  readonly format: FormatName;
  readonly mandatory: boolean;
  readonly hidable: boolean;
  readonly versions: readonly (2 | 3)[];
  readonly length?: { readonly min?: number; readonly max?: number };
  readonly v3?: { readonly key?: string; readonly title?: string };
  readonly rfc: string;
}

const V2 = [2] as const;
const V3 = [3] as const;
const BOTH = [2, 3] as const;

function avp<const K extends string, const F extends FormatName>(
  type: number,
  key: K,
  title: string,
  format: F,
  o: {
    m: boolean;
    h: boolean;
    versions: readonly (2 | 3)[];
    rfc: string;
    length?: { min?: number; max?: number };
    v3?: AvpSpec['v3'];
  },
) {
  return {
    type,
    key,
    title,
    format,
    mandatory: o.m,
    hidable: o.h,
    versions: o.versions,
    rfc: o.rfc,
    ...(o.length ? { length: o.length } : {}),
    ...(o.v3 ? { v3: o.v3 } : {}),
  } as const;
}

export const Avp = {
  MessageType: avp(0, 'MessageType', 'Message Type', 'u16', { m: true, h: false, versions: BOTH, rfc: '2661 §4.4.1, 3931 §5.4.1' }),
  ResultCode: avp(1, 'ResultCode', 'Result Code', 'resultCode', { m: true, h: false, versions: BOTH, rfc: '2661 §4.4.2, 3931 §5.4.2' }),
  ProtocolVersion: avp(2, 'ProtocolVersion', 'Protocol Version', 'protocolVersion', { m: true, h: false, versions: V2, rfc: '2661 §4.4.3' }),
  FramingCapabilities: avp(3, 'FramingCapabilities', 'Framing Capabilities', 'u32', { m: true, h: true, versions: V2, rfc: '2661 §4.4.3' }),
  BearerCapabilities: avp(4, 'BearerCapabilities', 'Bearer Capabilities', 'u32', { m: true, h: true, versions: V2, rfc: '2661 §4.4.3' }),
  TieBreaker: avp(5, 'TieBreaker', 'Tie Breaker', 'bytes', {
    m: false, h: false, versions: BOTH, rfc: '2661 §4.4.3, 3931 §5.4.3/§5.4.4', length: { min: 8, max: 8 },
  }),
  FirmwareRevision: avp(6, 'FirmwareRevision', 'Firmware Revision', 'u16', { m: false, h: true, versions: V2, rfc: '2661 §4.4.3' }),
  HostName: avp(7, 'HostName', 'Host Name', 'string', { m: true, h: false, versions: BOTH, rfc: '2661 §4.4.3, 3931 §5.4.3', length: { min: 1 } }),
  VendorName: avp(8, 'VendorName', 'Vendor Name', 'string', { m: false, h: true, versions: BOTH, rfc: '2661 §4.4.3, 3931 §5.4.3' }),
  AssignedTunnelId: avp(9, 'AssignedTunnelId', 'Assigned Tunnel ID', 'u16', { m: true, h: true, versions: V2, rfc: '2661 §4.4.3' }),
  ReceiveWindowSize: avp(10, 'ReceiveWindowSize', 'Receive Window Size', 'u16', { m: true, h: false, versions: BOTH, rfc: '2661 §4.4.3, 3931 §5.4.3' }),
  Challenge: avp(11, 'Challenge', 'Challenge', 'bytes', { m: true, h: true, versions: V2, rfc: '2661 §4.4.3', length: { min: 1 } }),
  Q931CauseCode: avp(12, 'Q931CauseCode', 'Q.931 Cause Code', 'q931Cause', { m: true, h: false, versions: V2, rfc: '2661 §4.4.4' }),
  ChallengeResponse: avp(13, 'ChallengeResponse', 'Challenge Response', 'bytes', {
    m: true, h: true, versions: V2, rfc: '2661 §4.4.3', length: { min: 16, max: 16 },
  }),
  AssignedSessionId: avp(14, 'AssignedSessionId', 'Assigned Session ID', 'u16', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  CallSerialNumber: avp(15, 'CallSerialNumber', 'Call Serial Number', 'u32', {
    m: true, h: true, versions: BOTH, rfc: '2661 §4.4.4, 3931 §5.4.4', v3: { key: 'SerialNumber', title: 'Serial Number' },
  }),
  MinimumBps: avp(16, 'MinimumBps', 'Minimum BPS', 'u32', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  MaximumBps: avp(17, 'MaximumBps', 'Maximum BPS', 'u32', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  BearerType: avp(18, 'BearerType', 'Bearer Type', 'u32', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  FramingType: avp(19, 'FramingType', 'Framing Type', 'u32', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  CalledNumber: avp(21, 'CalledNumber', 'Called Number', 'string', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  CallingNumber: avp(22, 'CallingNumber', 'Calling Number', 'string', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  SubAddress: avp(23, 'SubAddress', 'Sub-Address', 'string', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  TxConnectSpeed: avp(24, 'TxConnectSpeed', '(Tx) Connect Speed', 'u32', { m: true, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  PhysicalChannelId: avp(25, 'PhysicalChannelId', 'Physical Channel ID', 'u32', { m: false, h: true, versions: BOTH, rfc: '2661 §4.4.4, 3931 §5.4.4' }),
  InitialReceivedLcpConfreq: avp(26, 'InitialReceivedLcpConfreq', 'Initial Received LCP CONFREQ', 'bytes', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  LastSentLcpConfreq: avp(27, 'LastSentLcpConfreq', 'Last Sent LCP CONFREQ', 'bytes', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  LastReceivedLcpConfreq: avp(28, 'LastReceivedLcpConfreq', 'Last Received LCP CONFREQ', 'bytes', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  ProxyAuthenType: avp(29, 'ProxyAuthenType', 'Proxy Authen Type', 'u16', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  ProxyAuthenName: avp(30, 'ProxyAuthenName', 'Proxy Authen Name', 'string', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  ProxyAuthenChallenge: avp(31, 'ProxyAuthenChallenge', 'Proxy Authen Challenge', 'bytes', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  ProxyAuthenId: avp(32, 'ProxyAuthenId', 'Proxy Authen ID', 'proxyAuthenId', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  ProxyAuthenResponse: avp(33, 'ProxyAuthenResponse', 'Proxy Authen Response', 'bytes', { m: false, h: true, versions: V2, rfc: '2661 §4.4.5' }),
  CallErrors: avp(34, 'CallErrors', 'Call Errors', 'callErrors', {
    m: true, h: true, versions: BOTH, rfc: '2661 §4.4.6, 3931 §5.4.5',
    v3: { key: 'CircuitErrors', title: 'Circuit Errors' },
  }),
  Accm: avp(35, 'Accm', 'ACCM', 'accm', { m: true, h: true, versions: V2, rfc: '2661 §4.4.6' }),
  RandomVector: avp(36, 'RandomVector', 'Random Vector', 'bytes', { m: true, h: false, versions: BOTH, rfc: '2661 §4.4.1, 3931 §5.4.1', length: { min: 1 } }),
  PrivateGroupId: avp(37, 'PrivateGroupId', 'Private Group ID', 'bytes', { m: false, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  RxConnectSpeed: avp(38, 'RxConnectSpeed', 'Rx Connect Speed', 'u32', { m: false, h: true, versions: V2, rfc: '2661 §4.4.4' }),
  SequencingRequired: avp(39, 'SequencingRequired', 'Sequencing Required', 'empty', { m: true, h: false, versions: V2, rfc: '2661 §4.4.4' }),
  ExtendedVendorId: avp(58, 'ExtendedVendorId', 'Extended Vendor ID', 'extendedVendor', { m: false, h: true, versions: V3, rfc: '3931 §5.2' }),
  MessageDigest: avp(59, 'MessageDigest', 'Message Digest', 'messageDigest', {
    m: true, h: false, versions: V3, rfc: '3931 §5.4.1', length: { min: 17, max: 21 },
  }),
  RouterId: avp(60, 'RouterId', 'Router ID', 'u32', { m: true, h: false, versions: V3, rfc: '3931 §5.4.3' }),
  AssignedControlConnectionId: avp(61, 'AssignedControlConnectionId', 'Assigned Control Connection ID', 'u32', { m: true, h: true, versions: V3, rfc: '3931 §5.4.3' }),
  PseudowireCapabilitiesList: avp(62, 'PseudowireCapabilitiesList', 'Pseudowire Capabilities List', 'u16list', { m: true, h: true, versions: V3, rfc: '3931 §5.4.3' }),
  LocalSessionId: avp(63, 'LocalSessionId', 'Local Session ID', 'u32', { m: true, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  RemoteSessionId: avp(64, 'RemoteSessionId', 'Remote Session ID', 'u32', { m: true, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  AssignedCookie: avp(65, 'AssignedCookie', 'Assigned Cookie', 'bytes', { m: true, h: true, versions: V3, rfc: '3931 §5.4.4', length: { max: 8 } }),
  RemoteEndId: avp(66, 'RemoteEndId', 'Remote End ID', 'bytes', { m: true, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  PseudowireType: avp(68, 'PseudowireType', 'Pseudowire Type', 'u16', { m: true, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  L2SpecificSublayer: avp(69, 'L2SpecificSublayer', 'L2-Specific Sublayer', 'u16', { m: true, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  DataSequencing: avp(70, 'DataSequencing', 'Data Sequencing', 'u16', { m: true, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  CircuitStatus: avp(71, 'CircuitStatus', 'Circuit Status', 'u16', { m: true, h: true, versions: V3, rfc: '3931 §5.4.5' }),
  PreferredLanguage: avp(72, 'PreferredLanguage', 'Preferred Language', 'string', { m: false, h: true, versions: V3, rfc: '3931 §5.4.3' }),
  ControlMessageAuthenticationNonce: avp(73, 'ControlMessageAuthenticationNonce', 'Control Message Authentication Nonce', 'bytes', {
    m: true, h: false, versions: V3, rfc: '3931 §5.4.1', length: { min: 1 },
  }),
  TxConnectSpeedV3: avp(74, 'TxConnectSpeedV3', 'Tx Connect Speed', 'u64', { m: false, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  RxConnectSpeedV3: avp(75, 'RxConnectSpeedV3', 'Rx Connect Speed', 'u64', { m: false, h: true, versions: V3, rfc: '3931 §5.4.4' }),
  FailoverCapability: avp(76, 'FailoverCapability', 'Failover Capability', 'failoverCapability', { m: false, h: true, versions: BOTH, rfc: '4951 §5.1' }),
  TunnelRecovery: avp(77, 'TunnelRecovery', 'Tunnel Recovery', 'tunnelRecovery', { m: true, h: false, versions: BOTH, rfc: '4951 §5.2' }),
  SuggestedControlSequence: avp(78, 'SuggestedControlSequence', 'Suggested Control Sequence', 'suggestedControlSequence', {
    m: false, h: true, versions: BOTH, rfc: '4951 §5.3',
  }),
  FailoverSessionState: avp(79, 'FailoverSessionState', 'Failover Session State', 'failoverSessionState', {
    m: false, h: true, versions: BOTH, rfc: '4951 §5.4',
  }),
} as const satisfies Record<string, AvpSpec>;

export type AvpKey = keyof typeof Avp;
export type AvpSpecOf<K extends AvpKey> = (typeof Avp)[K];

/** Lookup by attribute type: an array indexed by type (O(1), no hashing on the decode path). */
export const AVP_BY_TYPE: readonly (AvpSpec | undefined)[] = (() => {
  const t: (AvpSpec | undefined)[] = [];
  for (const spec of Object.values(Avp) as AvpSpec[]) {
    if (t[spec.type] !== undefined) throw new Error(`duplicate AVP type ${spec.type}`);
    t[spec.type] = spec;
  }
  return t;
})();

export function avpSpec(vendorId: number, type: number): AvpSpec | undefined {
  return vendorId === 0 ? AVP_BY_TYPE[type] : undefined;
}

/** The name and format an AVP has in the given protocol version. */
export function avpTitle(spec: AvpSpec, version: 2 | 3): string {
  return version === 3 && spec.v3?.title ? spec.v3.title : spec.title;
}

/** RFC 2661 §4.4.3 Framing/Bearer Capabilities and Types bits. */
export const FramingBits = { Synchronous: 0x1, Asynchronous: 0x2 } as const;
export const BearerBits = { Digital: 0x1, Analog: 0x2 } as const;
/** RFC 2661 §4.4.5 Proxy Authen Type values. */
export const ProxyAuthenTypes = { Reserved: 0, TextualExchange: 1, PppChap: 2, PppPap: 3, NoAuthentication: 4, MsChapV1: 5 } as const;
/** RFC 3931 §5.4.4 / IANA: pseudowire types this project cares about (0x0005 Ethernet, 0x0004 Ethernet VLAN, 0x0007 PPP). */
export const PseudowireTypes = { EthernetVlan: 0x0004, Ethernet: 0x0005, Ppp: 0x0007, Hdlc: 0x0006 } as const;
/** RFC 3931 §5.4.4 L2-Specific Sublayer types. */
export const L2SpecificSublayerTypes = { None: 0, Default: 1 } as const;
/** RFC 3931 §5.4.4 Data Sequencing values. */
export const DataSequencingValues = { None: 0, NonIpOnly: 1, All: 2 } as const;
/** RFC 3931 §5.4.5 Circuit Status bits. */
export const CircuitStatusBits = { Active: 0x1, New: 0x2 } as const;
