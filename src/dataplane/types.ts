/**
 * The data plane seam (DESIGN.md "Data plane"): the control plane tells it which tunnels and
 * sessions exist; it moves the user data. `kernel` (issue: kernel fast path) programs the Linux
 * L2TP subsystem; `null` records only, and data messages then reach userspace on the tunnel socket,
 * so the whole control plane runs on machines without L2TP modules.
 *
 * Like net/l2tp's core, this knows tunnels and sessions; pseudowire specifics ride in `pseudowire`.
 */
export type DataPlaneKind = 'kernel' | 'null';

export interface TunnelSpec {
  localTunnelId: number;
  peerTunnelId: number;
  version: 2 | 3;
  encapsulation: 'udp' | 'ip';
  local: { address: string; port: number };
  peer: { address: string; port: number };
  /** File descriptor of the tunnel's bound and connected socket (kernel-managed tunnels). */
  fd?: number;
}

export interface SessionSpec {
  localTunnelId: number;
  localSessionId: number;
  peerSessionId: number;
  pseudowire: 'ppp' | 'ethernet' | 'ethernet_vlan';
  /** RFC 3931 cookies: what we expect to receive, what we send. */
  cookie?: Buffer;
  peerCookie?: Buffer;
  l2SpecificSublayer?: 'none' | 'default';
  sequencing?: boolean;
  /** Interface name for Ethernet pseudowires. */
  interfaceName?: string;
  mtu?: number;
  /** Ethernet pseudowires: the bridge the interface joins. */
  bridge?: string;
  /**
   * Ethernet-VLAN pseudowires (RFC 4719): the 802.1Q VLAN ID frames carry on the pseudowire. The attachment
   * circuit is then a VLAN interface on the pseudowire's interface (and that one joins the bridge).
   */
  vlanId?: number;
  /** We are the LNS of this session (the kernel's L2TP_ATTR_LNS_MODE: it then decides data sequencing). */
  lnsMode?: boolean;
}

/** What became of a PPP interface: its name and index, and the routes the kernel refused (if any). */
export interface PppInterfaceResult {
  ifname: string;
  ifindex: number;
  failedRoutes?: string[];
}

/** A PPP unit (`ppp<unit>`) that finished IPCP: its link goes up with these addresses (kernel data plane). */
export interface PppInterfaceSpec {
  unit: number;
  /** Our side of the link (the address we announced in IPCP), if any. */
  local?: string;
  /** The subscriber's address: a /32 peer address, or a route when we have no local address. */
  peer?: string;
  mtu?: number;
  /** Networks behind the subscriber (RADIUS Framed-Route), routed to the interface. */
  routes?: string[];
}

/**
 * A session's frames through the kernel (a PPPoL2TP socket and its /dev/ppp channel): what the
 * pseudowire sends and receives once the kernel owns the session's data messages.
 */
export interface SessionLink {
  /** Send one frame (e.g. PPP, address/control optional) to the peer through the kernel. */
  transmit(payload: Buffer): void;
  /** The network layer is up (IPCP opened): create the interface with these addresses. */
  networkUp(spec: Omit<PppInterfaceSpec, 'unit'>): Promise<PppInterfaceResult>;
  /** Seconds since the interface last carried data either way (no control frames); undefined before it exists. */
  idleSeconds(): number | undefined;
  /** Release every fd (the kernel then deletes the unit and the session). */
  close(): void;
}

export interface DataPlaneCounters {
  txPackets: number;
  txBytes: number;
  txErrors: number;
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  rxSeqDiscards: number;
}

export class DataPlaneError extends Error {
  override readonly name = 'DataPlaneError';
  constructor(
    message: string,
    readonly operation: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface DataPlane {
  readonly kind: DataPlaneKind;
  createTunnel(spec: TunnelSpec): Promise<void>;
  deleteTunnel(localTunnelId: number): Promise<void>;
  createSession(spec: SessionSpec): Promise<void>;
  deleteSession(localTunnelId: number, localSessionId: number): Promise<void>;
  /** Counters of a session, or of the tunnel when `localSessionId` is omitted. */
  counters(localTunnelId: number, localSessionId?: number): Promise<DataPlaneCounters | undefined>;
  /** Userspace data path (null data plane only): account a data message seen on the tunnel socket. */
  accountRx?(localTunnelId: number, localSessionId: number, bytes: number): void;
  /**
   * Kernel data plane: sequencing of a session the kernel made without options (a PPPoL2TP connect): send and
   * require sequence numbers, and as LNS keep deciding that whatever the peer sends (L2TP_ATTR_LNS_MODE).
   */
  modifySession?(spec: { localTunnelId: number; localSessionId: number; sequencing: boolean; lnsMode: boolean }): Promise<void>;
  /** Kernel data plane: bring a PPP unit's interface up with its addresses. */
  pppInterfaceUp?(spec: PppInterfaceSpec): Promise<PppInterfaceResult>;
  /** A tunnel (no sessionId) or session of ours was deleted outside the control plane (e.g. `ip l2tp del`). */
  onLost?(fn: (lost: { tunnelId: number; sessionId?: number }) => void): void;
  close(): Promise<void>;
}

export function zeroCounters(): DataPlaneCounters {
  return { txPackets: 0, txBytes: 0, txErrors: 0, rxPackets: 0, rxBytes: 0, rxErrors: 0, rxSeqDiscards: 0 };
}
