/**
 * LCP options and policy (RFC 1661 §6, RFC 1662 §7), for the LNS (server) and subscriber (client).
 *
 * Decisions for PPP carried in L2TP (RFC 2661 §5.3: the LAC strips the async framing, so the LNS sees
 * bare frames):
 * - ACCM (RFC 1662 §7.1) describes the client⇄LAC async line, not our link. We never request it and
 *   Ack whatever the client asks: the value costs us nothing, and the integration may pass it to the
 *   LAC in SLI (RFC 2661 §6.14, ACCM AVP). Rejecting it would leave the client at the default
 *   0xffffffff, escaping every control character on its line for nothing.
 * - PFC and ACFC (RFC 1661 §6.5, §6.6): Acked. We accept compressed fields on receive (frame.ts), as
 *   Linux's pppol2tp and ppp_generic do; they only permit compression, so we keep sending full
 *   `ff 03` + 2-octet protocol frames, which is what the kernel data path sends too.
 * - Authentication-Protocol: the server asks for its configured protocols in order and never agrees
 *   to authenticate itself to a subscriber (Reject). The client Acks a protocol it can do, else Naks
 *   with its preferred one (RFC 1661 §6.2).
 * - Quality-Protocol and anything unknown: Reject (RFC 1661 §5.4).
 */
import { authProtocolOfOptionData, authProtocolOptionData } from './auth/lcp-option.js';
import type { AuthProtocolName } from './auth/types.js';
import { u16Option, u32Option, type PppOption } from './frame.js';
import type { Judgement, OptionPolicy } from './control-protocol.js';

export const LcpOption = {
  MaximumReceiveUnit: 1,
  AsyncControlCharacterMap: 2,
  AuthenticationProtocol: 3,
  QualityProtocol: 4,
  MagicNumber: 5,
  ProtocolFieldCompression: 7,
  AddressControlFieldCompression: 8,
} as const;

/** RFC 1661 §6.1 default, and pppd's minimum acceptable MRU. */
export const DEFAULT_MRU = 1500;
export const MIN_MRU = 128;

/** Data length each option must have (Authentication-Protocol is variable). */
const OPTION_DATA_LENGTH: Readonly<Record<number, number>> = { 1: 2, 2: 4, 5: 4, 7: 0, 8: 0 };

export function authOption(name: AuthProtocolName): PppOption {
  return { type: LcpOption.AuthenticationProtocol, data: authProtocolOptionData(name) };
}

/** The protocol an Authentication-Protocol option names, if it is one we implement. */
export const parseAuthOption = (data: Buffer): AuthProtocolName | undefined => authProtocolOfOptionData(data);

/** What LCP agreed, plain data (getState, onUp). */
export interface LcpNegotiated {
  /** Our MRU as the peer agreed it (what it may send us). */
  mru: number;
  /** The peer's MRU: the largest frame we may send. */
  peerMru: number;
  magic: number;
  peerMagic: number;
  /** Server: the protocol the subscriber authenticates with. Client: the one the server asked of us. */
  auth?: AuthProtocolName;
  /** The peer's ACCM, for the LAC (SLI). */
  peerAccm?: number;
  peerPfc: boolean;
  peerAcfc: boolean;
}

export interface LcpPolicyOptions {
  role: 'server' | 'client';
  mru: number;
  /** Server: protocols to ask for, in order. Client: protocols it can do, in order of preference. */
  auth: readonly AuthProtocolName[];
  /** Uniform [0, 1): Magic-Numbers (RFC 1661 §6.4 wants them as random as possible). */
  random: () => number;
  /** Requests carrying our own Magic-Number before the link is declared looped back. */
  maxLoopback: number;
}

export class LcpPolicy implements OptionPolicy {
  /** What our next Configure-Request asks. */
  private wantMru: number | undefined;
  private magic: number;
  private askMagic = true;
  /** Server: the protocol we ask for now; protocols the peer Nak'd are not asked again. */
  private authChoice: AuthProtocolName | undefined;
  private authRefused: Set<AuthProtocolName> | undefined; // server only: made on the first Nak
  /** Configure-Requests seen carrying our own Magic-Number. */
  loopbacks = 0;
  readonly negotiated: LcpNegotiated = { mru: DEFAULT_MRU, peerMru: DEFAULT_MRU, magic: 0, peerMagic: 0, peerPfc: false, peerAcfc: false };

  constructor(private readonly o: LcpPolicyOptions) {
    this.wantMru = o.mru !== DEFAULT_MRU ? o.mru : undefined;
    this.magic = this.newMagic();
    this.authChoice = o.role === 'server' ? o.auth[0] : undefined;
  }

  private newMagic(): number {
    // Never zero: zero means "no magic" to loop detection.
    return (Math.floor(this.o.random() * 0xfffffffe) + 1) >>> 0;
  }

  request(): PppOption[] {
    const out: PppOption[] = [];
    if (this.wantMru !== undefined) out.push(u16Option(LcpOption.MaximumReceiveUnit, this.wantMru));
    if (this.authChoice) out.push(authOption(this.authChoice));
    if (this.askMagic) out.push(u32Option(LcpOption.MagicNumber, this.magic));
    return out;
  }

  judge(options: readonly PppOption[]): Judgement {
    const j: Judgement = { reject: [], nak: [] };
    const magic = options.find((o) => o.type === LcpOption.MagicNumber && o.data.length === 4);
    if (magic && this.askMagic && magic.data.readUInt32BE(0) === this.magic) {
      // RFC 1661 §6.4: probably our own request looped back. Answer only this question, with a
      // different number; after too many the line is declared looped back.
      if (++this.loopbacks > this.o.maxLoopback) return { ...j, fatal: 'loopback: the link returns our own Magic-Number' };
      return { reject: [], nak: [{ suggest: u32Option(LcpOption.MagicNumber, this.newMagic()), requested: magic }], nakOnly: true };
    }
    for (const o of options) {
      const len = OPTION_DATA_LENGTH[o.type];
      if (len !== undefined && o.data.length !== len) {
        j.reject.push(o); // a malformed option is as good as an unknown one
        continue;
      }
      switch (o.type) {
        case LcpOption.MaximumReceiveUnit:
          if (o.data.readUInt16BE(0) < MIN_MRU) j.nak.push({ suggest: u16Option(o.type, MIN_MRU), requested: o });
          break;
        case LcpOption.AsyncControlCharacterMap:
        case LcpOption.ProtocolFieldCompression:
        case LcpOption.AddressControlFieldCompression:
        case LcpOption.MagicNumber:
          break;
        case LcpOption.AuthenticationProtocol: {
          if (this.o.role === 'server' || this.o.auth.length === 0) {
            j.reject.push(o);
            break;
          }
          if (o.data.length < 2) {
            j.reject.push(o);
            break;
          }
          const name = parseAuthOption(o.data);
          if (!name || !this.o.auth.includes(name)) j.nak.push({ suggest: authOption(this.o.auth[0]!), requested: o });
          break;
        }
        default:
          j.reject.push(o);
      }
    }
    return j;
  }

  peerAgreed(options: readonly PppOption[]): void {
    const n = this.negotiated;
    n.peerMru = DEFAULT_MRU;
    n.peerMagic = 0;
    n.peerPfc = n.peerAcfc = false;
    delete n.peerAccm;
    if (this.o.role === 'client') delete n.auth;
    for (const o of options) {
      if (o.type === LcpOption.MaximumReceiveUnit) n.peerMru = o.data.readUInt16BE(0);
      else if (o.type === LcpOption.MagicNumber) n.peerMagic = o.data.readUInt32BE(0);
      else if (o.type === LcpOption.AsyncControlCharacterMap) n.peerAccm = o.data.readUInt32BE(0);
      else if (o.type === LcpOption.ProtocolFieldCompression) n.peerPfc = true;
      else if (o.type === LcpOption.AddressControlFieldCompression) n.peerAcfc = true;
      else if (o.type === LcpOption.AuthenticationProtocol && this.o.role === 'client') {
        const a = parseAuthOption(o.data);
        if (a) n.auth = a;
      }
    }
  }

  agreed(options: readonly PppOption[]): void {
    const n = this.negotiated;
    n.mru = DEFAULT_MRU;
    n.magic = 0;
    if (this.o.role === 'server') delete n.auth;
    for (const o of options) {
      if (o.type === LcpOption.MaximumReceiveUnit) n.mru = o.data.readUInt16BE(0);
      else if (o.type === LcpOption.MagicNumber) n.magic = o.data.readUInt32BE(0);
      else if (o.type === LcpOption.AuthenticationProtocol && this.o.role === 'server') {
        const a = parseAuthOption(o.data);
        if (a) n.auth = a;
      }
    }
  }

  nakked(options: readonly PppOption[]): string | undefined {
    for (const o of options) {
      if (o.type === LcpOption.MaximumReceiveUnit && o.data.length === 2) {
        const v = o.data.readUInt16BE(0);
        // Take a smaller MRU, or up to the default; otherwise stop asking (RFC 1661 §6.1).
        this.wantMru = v >= MIN_MRU && v <= Math.max(this.o.mru, DEFAULT_MRU) ? v : undefined;
      } else if (o.type === LcpOption.MagicNumber) {
        this.magic = this.newMagic(); // §6.4: a Nak of our Magic-Number: choose another
      } else if (o.type === LcpOption.AuthenticationProtocol && this.o.role === 'server') {
        // §6.2: the peer names the protocol it prefers; take it if we offer it, else our next one.
        // A protocol the peer Nak'd is not offered again, so this ends.
        if (this.authChoice) (this.authRefused ??= new Set()).add(this.authChoice);
        const s = parseAuthOption(o.data);
        const usable = (a: AuthProtocolName | undefined) => a !== undefined && this.o.auth.includes(a) && !this.authRefused?.has(a);
        this.authChoice = usable(s) ? s : this.o.auth.find(usable);
        if (!this.authChoice) return 'the peer refuses every authentication protocol we offer';
      }
    }
    return undefined;
  }

  rejected(options: readonly PppOption[]): string | undefined {
    for (const o of options) {
      if (o.type === LcpOption.MaximumReceiveUnit) this.wantMru = undefined;
      else if (o.type === LcpOption.MagicNumber) this.askMagic = false;
      else if (o.type === LcpOption.AuthenticationProtocol) return 'the peer refuses to authenticate';
    }
    return undefined;
  }

  /** Restore: keep the Magic-Number the peer knows us by. */
  adoptMagic(magic: number): void {
    this.magic = magic;
    this.askMagic = magic !== 0;
  }

  /** Proxy LCP (RFC 2661 §4.4.5): take the values the LAC negotiated as ours. */
  adopt(ours: readonly PppOption[], peers: readonly PppOption[]): void {
    this.agreed(ours);
    this.peerAgreed(peers);
    this.magic = this.negotiated.magic;
    this.askMagic = this.magic !== 0;
  }
}
