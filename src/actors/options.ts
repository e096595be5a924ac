/**
 * What a tunnel and its sessions need to know from configuration, already resolved (profiles
 * inherited, durations in milliseconds, secrets as octets). The config layer maps its profiles to
 * these; the actors never read configuration files.
 */
export interface TunnelOptions {
  version: 2 | 3;
  encapsulation: 'udp' | 'ip';
  /** none: anyone; simple: the peer profile's host-name match is the check; challenge: RFC 2661 §5.1.1 / RFC 3931 §4.3. */
  authMode: 'none' | 'simple' | 'challenge';
  secret: Buffer | undefined;
  hideAvps: boolean;
  digest: 'hmac-md5' | 'hmac-sha1';
  receiveWindowSize: number;
  helloIntervalMs: number;
  retransmitInitialMs: number;
  retransmitCapMs: number;
  maxRetransmits: number;
  ackDelayMs: number;
  /** Absent in records written before it existed: the control channel's default. */
  ackDelayUnansweredMs?: number;
  hostName: string;
  vendorName: string;
  /** L2TPv3 Router ID (RFC 3931 §5.4.3). */
  routerId: number;
  maxSessions: number;
  /** Whether the peer may place calls toward us: ICRQ (it acts as LAC) and OCRQ (it acts as LNS). */
  acceptIncomingCalls: boolean;
  acceptOutgoingCalls: boolean;
  /** Session profile used for sessions the peer creates in this tunnel. */
  session: SessionOptions;
  /** PPP profile of this tunnel's PPP sessions (peer profile's, else the session profile's). */
  pppProfile: string;
}

export interface SessionOptions {
  pseudowire: 'ppp' | 'ethernet' | 'ethernet_vlan';
  sequencing: boolean;
  /** L2TPv3 cookie we assign (0, 4 or 8 octets). */
  cookieLength: 0 | 4 | 8;
  l2SpecificSublayer: 'none' | 'default';
  /** Ethernet pseudowires in the kernel: interface name (`%d` numbered by the kernel), MTU, bridge to join. */
  ethernet?: EthernetOptions;
}

/**
 * An Ethernet pseudowire's interface. `vlanId` (Ethernet-VLAN pseudowires, RFC 4719): frames on the
 * pseudowire carry this 802.1Q tag; the attachment circuit is a VLAN interface on the l2tpeth one.
 */
export interface EthernetOptions {
  interfaceName: string;
  mtu: number;
  bridge: string | null;
  vlanId: number | null;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  pseudowire: 'ppp',
  sequencing: false,
  cookieLength: 0,
  l2SpecificSublayer: 'none',
};

export const DEFAULT_TUNNEL_OPTIONS: TunnelOptions = {
  version: 2,
  encapsulation: 'udp',
  authMode: 'none',
  secret: undefined,
  hideAvps: false,
  digest: 'hmac-md5',
  receiveWindowSize: 16,
  helloIntervalMs: 60_000,
  retransmitInitialMs: 1000,
  retransmitCapMs: 8000,
  maxRetransmits: 5,
  ackDelayMs: 100,
  ackDelayUnansweredMs: 20,
  hostName: 'l2tpd',
  vendorName: 'l2tpd',
  routerId: 1,
  maxSessions: 65535,
  acceptIncomingCalls: true,
  acceptOutgoingCalls: true,
  session: DEFAULT_SESSION_OPTIONS,
  pppProfile: 'default',
};

/** A full retransmission cycle: how long state is held after StopCCN (RFC 2661 §5.7). */
export function retransmissionCycleMs(o: Pick<TunnelOptions, 'retransmitInitialMs' | 'retransmitCapMs' | 'maxRetransmits'>): number {
  let total = 0;
  for (let i = 0; i <= o.maxRetransmits; i++) total += Math.min(o.retransmitInitialMs * 2 ** i, o.retransmitCapMs);
  return total;
}
