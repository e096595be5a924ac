/**
 * IPCP options and policy: IP-Address (RFC 1332 §3.3) and the DNS addresses of RFC 1877 §1.1/§1.3.
 *
 * Server (LNS): the subscriber's address is fixed before IPCP starts (engine: allocator, RADIUS hint),
 * so judging stays pure. A request for 0.0.0.0 or for another address is Nak'd with the assigned one;
 * a request without IP-Address gets it added in a Nak (RFC 1332 §3.3 lets the receiver suggest one).
 * DNS is Nak'd to the configured servers, or Rejected when none is configured; NBNS (RFC 1877 §1.2,
 * §1.4), IP-Compression-Protocol (VJ: not in our data path) and the deprecated IP-Addresses are Rejected.
 *
 * Client (subscriber): asks for 0.0.0.0 (or a hint) and, if wanted, DNS; takes what the server Naks.
 */
import { bufferToIpv4, ipv4Option, ipv4ToBuffer, type PppOption } from './frame.js';
import type { Judgement, OptionPolicy } from './control-protocol.js';

export const IpcpOption = {
  IpAddresses: 1,
  IpCompressionProtocol: 2,
  IpAddress: 3,
  PrimaryDns: 129,
  PrimaryNbns: 130,
  SecondaryDns: 131,
  SecondaryNbns: 132,
} as const;

const ANY = '0.0.0.0';
const DNS_TYPES = [IpcpOption.PrimaryDns, IpcpOption.SecondaryDns] as const;

export interface IpcpNegotiated {
  /** The subscriber's address (server: the one it accepted; client: ours). */
  address?: string;
  /** The other end's address as it announced it (client: the LNS's; server: ours if we sent one). */
  gateway?: string;
  dns: string[];
}

export type IpcpPolicyOptions =
  | {
      role: 'server';
      /** Our own address for the link, if any (omitted from our request otherwise). */
      localAddress?: string;
      /** The subscriber's address, fixed before IPCP starts. */
      assigned: () => string | undefined;
      /** Up to two DNS servers offered (RFC 1877). */
      dns: readonly string[];
    }
  | { role: 'client'; hint?: string; requestDns: boolean };

export class IpcpPolicy implements OptionPolicy {
  private askLocal: string | undefined;
  /** Client: what we ask for (IP-Address, primary and secondary DNS). */
  private askAddress: string | undefined;
  private askDns: (string | undefined)[] = [];
  readonly negotiated: IpcpNegotiated = { dns: [] };

  constructor(private readonly o: IpcpPolicyOptions) {
    if (o.role === 'server') this.askLocal = o.localAddress;
    else {
      this.askAddress = o.hint ?? ANY;
      if (o.requestDns) this.askDns = [ANY, ANY];
    }
  }

  request(): PppOption[] {
    if (this.o.role === 'server') return this.askLocal ? [ipv4Option(IpcpOption.IpAddress, this.askLocal)] : [];
    const out: PppOption[] = [];
    if (this.askAddress) out.push(ipv4Option(IpcpOption.IpAddress, this.askAddress));
    this.askDns.forEach((d, i) => d && out.push(ipv4Option(DNS_TYPES[i]!, d)));
    return out;
  }

  judge(options: readonly PppOption[]): Judgement {
    const j: Judgement = { reject: [], nak: [] };
    const server = this.o.role === 'server' ? this.o : undefined;
    let sawAddress = false;
    for (const o of options) {
      const isAddressOption = o.type === IpcpOption.IpAddress || DNS_TYPES.includes(o.type as never);
      if (!isAddressOption || o.data.length !== 4) {
        j.reject.push(o);
        continue;
      }
      const value = bufferToIpv4(o.data);
      if (o.type === IpcpOption.IpAddress) {
        sawAddress = true;
        if (!server) {
          // The server asks us for its own address: we have none to give (pppd does the same).
          if (value === ANY) j.reject.push(o);
          continue;
        }
        const assigned = server.assigned();
        if (!assigned) j.reject.push(o);
        else if (value !== assigned) j.nak.push({ suggest: ipv4Option(o.type, assigned), requested: o });
        continue;
      }
      // DNS (RFC 1877 §1.1, §1.3): only the server hands these out.
      const dns = server?.dns[o.type === IpcpOption.PrimaryDns ? 0 : 1];
      if (!dns) j.reject.push(o);
      else if (value !== dns) j.nak.push({ suggest: ipv4Option(o.type, dns), requested: o });
    }
    const assigned = server?.assigned();
    if (server && !sawAddress && assigned) j.nak.push({ suggest: ipv4Option(IpcpOption.IpAddress, assigned) });
    return j;
  }

  peerAgreed(options: readonly PppOption[]): void {
    const n = this.negotiated;
    const address = options.find((o) => o.type === IpcpOption.IpAddress);
    if (this.o.role === 'server') {
      if (address) n.address = bufferToIpv4(address.data);
      else delete n.address;
      n.dns = DNS_TYPES.flatMap((t) => {
        const d = options.find((o) => o.type === t);
        return d ? [bufferToIpv4(d.data)] : [];
      });
    } else if (address) n.gateway = bufferToIpv4(address.data);
  }

  agreed(options: readonly PppOption[]): void {
    const n = this.negotiated;
    const address = options.find((o) => o.type === IpcpOption.IpAddress);
    if (this.o.role === 'server') {
      if (address) n.gateway = bufferToIpv4(address.data);
      return;
    }
    if (address) n.address = bufferToIpv4(address.data);
    n.dns = DNS_TYPES.flatMap((t) => {
      const d = options.find((o) => o.type === t);
      return d ? [bufferToIpv4(d.data)] : [];
    });
  }

  nakked(options: readonly PppOption[]): string | undefined {
    for (const o of options) {
      if (o.data.length !== 4) continue;
      const value = bufferToIpv4(o.data);
      if (o.type === IpcpOption.IpAddress) {
        // Server: the subscriber wants another address for us; we need none, stop asking.
        if (this.o.role === 'server') this.askLocal = undefined;
        else this.askAddress = value;
      } else if (this.o.role === 'client' && o.type === IpcpOption.PrimaryDns && this.askDns[0]) this.askDns[0] = value;
      else if (this.o.role === 'client' && o.type === IpcpOption.SecondaryDns && this.askDns[1]) this.askDns[1] = value;
    }
    return undefined;
  }

  rejected(options: readonly PppOption[]): string | undefined {
    for (const o of options) {
      if (o.type === IpcpOption.IpAddress) {
        if (this.o.role === 'client') return 'the server refuses to assign an address';
        this.askLocal = undefined;
      } else if (o.type === IpcpOption.PrimaryDns) this.askDns[0] = undefined;
      else if (o.type === IpcpOption.SecondaryDns) this.askDns[1] = undefined;
    }
    return undefined;
  }
}

/** Validate configured addresses early, with the codec's typed error. */
export function checkIpv4(addr: string): string {
  ipv4ToBuffer(addr);
  return addr;
}
