/**
 * IPv6CP options and policy (RFC 5072 §4): Interface-Identifier only; IPv6-Compression-Protocol is
 * Rejected (no header compression in our data path).
 *
 * Both roles send their own identifier (random, "u" bit zero: RFC 5072 §4.1 case 3) and judge the
 * peer's as §4.1 says: a zero identifier, or one equal to ours, is Nak'd with a different non-zero
 * suggestion — the same suggestion for the whole session (§4.1 "consistently reproducible"); both
 * zero is Rejected. A Nak of ours is taken unless it repeats the last suggestion we made the peer.
 * An identifier authorized for the subscriber (RADIUS Framed-Interface-Id) is imposed: any other is Nak'd.
 */
import { interfaceIdToString, type PppOption } from './frame.js';
import type { Judgement, OptionPolicy } from './control-protocol.js';

export const Ipv6cpOption = {
  InterfaceIdentifier: 1,
  Ipv6CompressionProtocol: 2,
} as const;

const ZERO = Buffer.alloc(8);

export interface Ipv6cpNegotiated {
  /** Our interface identifier, `xxxx:xxxx:xxxx:xxxx`. */
  interfaceId?: string;
  peerInterfaceId?: string;
}

export interface Ipv6cpPolicyOptions {
  /** Uniform [0, 1). */
  random: () => number;
  /** Our identifier (default random). */
  interfaceId?: Buffer;
  /** What we suggest for the peer when its identifier is zero or ours (default random). */
  peerInterfaceId?: Buffer;
  /** Nak any other identifier with `peerInterfaceId` (RADIUS Framed-Interface-Id, RFC 3162 §2.2). */
  impose?: boolean;
}

export function randomInterfaceId(random: () => number): Buffer {
  const b = Buffer.alloc(8);
  do {
    for (let i = 0; i < 8; i++) b[i] = Math.floor(random() * 256) & 0xff;
    b[0]! &= ~0x02; // RFC 5072 §4.1: the "u" (universal/local) bit is zero for a random identifier
  } while (b.equals(ZERO));
  return b;
}

export class Ipv6cpPolicy implements OptionPolicy {
  private ours: Buffer | undefined;
  private suggestion: Buffer;
  private lastNakSent: Buffer | undefined;
  readonly negotiated: Ipv6cpNegotiated = {};

  constructor(private readonly o: Ipv6cpPolicyOptions) {
    this.ours = o.interfaceId ?? randomInterfaceId(o.random);
    this.suggestion = o.peerInterfaceId ?? randomInterfaceId(o.random);
  }

  private suggestFor(peer: Buffer): Buffer {
    while (this.suggestion.equals(this.ours ?? ZERO) || this.suggestion.equals(peer)) this.suggestion = randomInterfaceId(this.o.random);
    return this.suggestion;
  }

  request(): PppOption[] {
    return this.ours ? [{ type: Ipv6cpOption.InterfaceIdentifier, data: this.ours }] : [];
  }

  judge(options: readonly PppOption[]): Judgement {
    const j: Judgement = { reject: [], nak: [] };
    for (const o of options) {
      if (o.type !== Ipv6cpOption.InterfaceIdentifier || o.data.length !== 8) {
        j.reject.push(o);
        continue;
      }
      const ours = this.ours ?? ZERO;
      if (o.data.equals(ZERO) && ours.equals(ZERO)) j.reject.push(o);
      else if (o.data.equals(ZERO) || o.data.equals(ours) || (this.o.impose && this.o.peerInterfaceId && !o.data.equals(this.o.peerInterfaceId))) {
        const s = Buffer.from(this.suggestFor(o.data));
        this.lastNakSent = s;
        j.nak.push({ suggest: { type: o.type, data: s }, requested: o });
      }
    }
    return j;
  }

  peerAgreed(options: readonly PppOption[]): void {
    const id = options.find((o) => o.type === Ipv6cpOption.InterfaceIdentifier);
    if (id) this.negotiated.peerInterfaceId = interfaceIdToString(id.data);
    else delete this.negotiated.peerInterfaceId;
  }

  agreed(options: readonly PppOption[]): void {
    const id = options.find((o) => o.type === Ipv6cpOption.InterfaceIdentifier);
    if (id) this.negotiated.interfaceId = interfaceIdToString(id.data);
    else delete this.negotiated.interfaceId;
  }

  nakked(options: readonly PppOption[]): string | undefined {
    for (const o of options) {
      if (o.type !== Ipv6cpOption.InterfaceIdentifier || o.data.length !== 8) continue;
      // §4.1: take the suggestion, unless it is zero or the one we last suggested to the peer.
      if (o.data.equals(ZERO) || (this.lastNakSent && o.data.equals(this.lastNakSent))) this.ours = randomInterfaceId(this.o.random);
      else this.ours = Buffer.from(o.data);
    }
    return undefined;
  }

  rejected(options: readonly PppOption[]): string | undefined {
    if (options.some((o) => o.type === Ipv6cpOption.InterfaceIdentifier)) this.ours = undefined;
    return undefined;
  }
}
