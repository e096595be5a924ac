/**
 * The Network-Layer Protocol phase (RFC 1661 §3.6) of one link: IPCP and IPv6CP, each the shared
 * RFC 1661 automaton with its option policy, and the IPv4 address taken from the allocator.
 *
 * The NCPs are created when the phase starts (not with the engine): most of an LNS's life is spent
 * elsewhere, and an NCP packet before this phase is discarded anyway (RFC 1661 §3.5).
 * The server fixes the subscriber's address before IPCP starts, so IPCP judging stays pure; with no
 * address and no IPv6CP the session ends. What the verifier authorized (src/aaa's SessionAuthorization
 * in AuthVerdict.attributes) is honoured: `framedIpAddress` is the allocator's hint, `framedPool` may
 * choose the allocator (config.allocator as a function), `dnsServers` (RFC 2548) replace the
 * configured DNS, `framedInterfaceId` is what IPv6CP suggests to the subscriber.
 */
import { ControlProtocol, type OptionPolicy } from './control-protocol.js';
import { interfaceIdFromString, PppCodecError, PppProtocol } from './frame.js';
import { IpcpPolicy } from './ipcp.js';
import { Ipv6cpPolicy } from './ipv6cp.js';
import type { AddressAllocator, PppDownCause, PppEngineConfig, PppEngineState, PppUpInfo } from './types.js';

/** The engine's ControlProtocol factory (clock, limits, owner). */
export type MakeProtocol = (name: string, protocol: number, policy: OptionPolicy, snapshot?: unknown) => ControlProtocol;

/** The keys of AuthVerdict.attributes read here (src/aaa SessionAuthorization, from RADIUS or local users). */
export const AUTHORIZATION_KEYS = { address: 'framedIpAddress', dns: 'dnsServers', interfaceId: 'framedInterfaceId' } as const;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const texts = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

export class NetworkPhase {
  ipcp: ControlProtocol | undefined;
  ipv6cp: ControlProtocol | undefined;
  private ipcpPolicy: IpcpPolicy | undefined;
  private ipv6cpPolicy: Ipv6cpPolicy | undefined;
  /** Server: the subscriber's address, owned (released to `allocator`) by this link. */
  address: string | undefined;
  private allocator: AddressAllocator | undefined;
  private dns: string[];

  constructor(
    private readonly c: PppEngineConfig,
    private readonly random: () => number,
    private readonly make: MakeProtocol,
  ) {
    this.dns = (c.dns ?? []).slice(0, 2);
  }

  enabled(protocol: number): boolean {
    return protocol === PppProtocol.IPCP || protocol === PppProtocol.IPv4 ? this.c.ipcp ?? true : this.c.ipv6cp ?? false;
  }

  /** The NCP for a control or data protocol number, if it runs. */
  ncpFor(protocol: number): ControlProtocol | undefined {
    return protocol === PppProtocol.IPCP || protocol === PppProtocol.IPv4 ? this.ipcp : this.ipv6cp;
  }

  get ncps(): ControlProtocol[] {
    return [this.ipcp, this.ipv6cp].filter((n): n is ControlProtocol => n !== undefined);
  }

  /** Create (once) and open the NCPs; a cause when none can run. */
  open(attributes: Record<string, unknown> | undefined): { cause: PppDownCause; message: string } | undefined {
    const c = this.c;
    const dns = texts(attributes?.[AUTHORIZATION_KEYS.dns]);
    if (dns?.length) this.dns = dns.slice(0, 2);
    if ((c.ipcp ?? true) && !this.ipcp) {
      if (c.role === 'server' && this.address === undefined) {
        this.allocator = typeof c.allocator === 'function' ? c.allocator(attributes) : c.allocator;
        this.address = this.allocator?.allocate(text(attributes?.[AUTHORIZATION_KEYS.address]));
        if (this.address === undefined && !(c.ipv6cp ?? false)) return { cause: 'address-exhausted', message: 'no IPv4 address to assign' };
      }
      if (c.role === 'client' || this.address !== undefined) this.makeIpcp();
    }
    if ((c.ipv6cp ?? false) && !this.ipv6cp) this.makeIpv6cp(undefined, text(attributes?.[AUTHORIZATION_KEYS.interfaceId]));
    if (this.ncps.length === 0) return { cause: 'no-network', message: 'no network protocol enabled' };
    for (const n of this.ncps) {
      n.dispatch({ type: 'Open' });
      n.dispatch({ type: 'Up' });
    }
    return undefined;
  }

  private makeIpcp(snapshot?: unknown): void {
    const c = this.c;
    const address = this.address;
    this.ipcpPolicy = new IpcpPolicy(
      c.role === 'server'
        ? { role: 'server', assigned: () => address, dns: this.dns, ...(c.localAddress ? { localAddress: c.localAddress } : {}) }
        : { role: 'client', requestDns: c.requestDns ?? true, ...(c.addressHint ? { hint: c.addressHint } : {}) },
    );
    this.ipcp = this.make('IPCP', PppProtocol.IPCP, this.ipcpPolicy, snapshot);
  }

  private makeIpv6cp(snapshot?: unknown, peerId?: string): void {
    let peerInterfaceId: Buffer | undefined;
    try {
      if (peerId) peerInterfaceId = interfaceIdFromString(peerId);
    } catch (e) {
      if (!(e instanceof PppCodecError)) throw e; // an unusable Framed-Interface-Id: draw one instead
    }
    this.ipv6cpPolicy = new Ipv6cpPolicy({ random: this.random, ...(peerInterfaceId ? { peerInterfaceId, impose: true } : {}) });
    this.ipv6cp = this.make('IPv6CP', PppProtocol.IPV6CP, this.ipv6cpPolicy, snapshot);
  }

  /** Every NCP has settled (Opened or given up) and one is Opened. */
  get up(): boolean {
    // Asked on every NCP layer signal: the two NCPs read directly (`ncps` makes an array).
    const v4 = this.ipcp?.layer;
    const v6 = this.ipv6cp?.layer;
    return (v4 === 'up' || v6 === 'up') && v4 !== 'down' && v6 !== 'down';
  }

  get allFinished(): boolean {
    const v4 = this.ipcp?.layer;
    const v6 = this.ipv6cp?.layer;
    return (v4 === undefined || v4 === 'finished') && (v6 === undefined || v6 === 'finished');
  }

  /** LCP left Opened: the NCPs' lower layer is down (RFC 1661 §4.3 Down). */
  lowerDown(): void {
    for (const n of this.ncps) n.dispatch({ type: 'Down' });
  }

  fill(info: PppUpInfo): void {
    const server = this.c.role === 'server';
    const ip = this.ipcp?.layer === 'up' ? this.ipcpPolicy?.negotiated : undefined;
    const v6 = this.ipv6cp?.layer === 'up' ? this.ipv6cpPolicy?.negotiated : undefined;
    if (ip) {
      info.dns = server ? [...this.dns] : [...ip.dns];
      const address = server ? this.address : ip.address;
      if (address !== undefined) info.address = address;
      if (ip.gateway !== undefined) info.gateway = ip.gateway;
    }
    const mine = server ? v6?.peerInterfaceId : v6?.interfaceId;
    const theirs = server ? v6?.interfaceId : v6?.peerInterfaceId;
    if (mine !== undefined) info.interfaceId = mine;
    if (theirs !== undefined) info.gatewayInterfaceId = theirs;
  }

  state(): Pick<PppEngineState, 'ipcp' | 'ipv6cp' | 'address'> {
    const s: Pick<PppEngineState, 'ipcp' | 'ipv6cp' | 'address'> = {};
    if (this.ipcp && this.ipcpPolicy) {
      const n = this.ipcpPolicy.negotiated;
      s.ipcp = { fsm: this.ipcp.persisted(), state: this.ipcp.state, negotiated: { ...n, dns: [...n.dns] } };
    }
    if (this.ipv6cp && this.ipv6cpPolicy) s.ipv6cp = { fsm: this.ipv6cp.persisted(), state: this.ipv6cp.state, negotiated: { ...this.ipv6cpPolicy.negotiated } };
    if (this.address !== undefined) s.address = this.address;
    return s;
  }

  /**
   * Resume; `allocator` (a function of the attributes, or the one pool) takes the address back on teardown.
   * A restarted worker's pools are fresh: the address is reserved in it again so it is not handed out
   * twice. One the pool cannot give back (taken, or no longer in it) stays the link's but is not returned.
   */
  restore(s: PppEngineState): void {
    this.allocator = typeof this.c.allocator === 'function' ? this.c.allocator(s.attributes) : this.c.allocator;
    if (s.address !== undefined) {
      this.address = s.address;
      if (this.allocator?.reserve && !this.allocator.reserve(s.address)) {
        this.c.log?.warn({ address: s.address }, 'restored PPP link: its address could not be reserved again; it will not be returned to the pool');
        this.allocator = undefined;
      }
    }
    const dns = texts(s.attributes?.[AUTHORIZATION_KEYS.dns]);
    if (dns?.length) this.dns = dns.slice(0, 2);
    if (s.ipcp) {
      this.makeIpcp(s.ipcp.fsm);
      Object.assign(this.ipcpPolicy!.negotiated, s.ipcp.negotiated);
    }
    if (s.ipv6cp) {
      this.makeIpv6cp(s.ipv6cp.fsm);
      Object.assign(this.ipv6cpPolicy!.negotiated, s.ipv6cp.negotiated);
    }
  }

  /** Free the NCPs and give the address back (every way down ends here, once). */
  dispose(): void {
    for (const n of this.ncps) n.dispose();
    if (this.address !== undefined) this.allocator?.release(this.address);
    this.address = undefined;
  }
}
