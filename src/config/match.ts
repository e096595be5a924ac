/**
 * Choosing the peer profile for an incoming tunnel (SCCRQ): the first non-default profile, in file
 * order, whose `match` fits the peer; `default` otherwise. Patterns are compiled once per load, so a
 * match costs one regex test and one BigInt mask per candidate profile.
 */
import { parseIp, parsePrefix, prefixContains } from './ip.js';
import type { IpPrefix } from './ip.js';
import { DEFAULT_PROFILE } from './references.js';
import type { PeerProfile } from './types.js';

export interface PeerIdentity {
  /** The peer's Host Name AVP, when known. */
  hostName?: string;
  /** The peer's IP address (IPv4, IPv6, or IPv4-mapped IPv6). */
  address: string;
}

/**
 * `*` matches any run of characters (dots included: `bras*` matches `bras7.pop1.example.net`), `?`
 * exactly one; case-insensitive, as host names are (RFC 4343).
 */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'is');
}

interface CompiledPeer {
  readonly profile: PeerProfile;
  readonly hostName: RegExp | undefined;
  readonly prefix: IpPrefix | undefined;
}

export class PeerMatcher {
  private readonly candidates: readonly CompiledPeer[];
  private readonly fallback: PeerProfile;

  constructor(peers: ReadonlyMap<string, PeerProfile>) {
    const fallback = peers.get(DEFAULT_PROFILE);
    if (fallback === undefined) throw new Error('peer profiles without "default"');
    this.fallback = fallback;
    this.candidates = [...peers.values()].flatMap((profile): CompiledPeer[] => {
      const m = profile.match;
      if (profile.name === DEFAULT_PROFILE || m === undefined) return [];
      const prefix = m.address === undefined ? undefined : parsePrefix(m.address);
      if (prefix !== undefined && 'error' in prefix) throw new Error(prefix.error);
      return [{ profile, hostName: m.hostName === undefined ? undefined : globToRegExp(m.hostName), prefix }];
    });
  }

  match(peer: PeerIdentity): PeerProfile {
    const addr = parseIp(peer.address);
    for (const c of this.candidates) {
      if (c.hostName !== undefined && (peer.hostName === undefined || !c.hostName.test(peer.hostName))) continue;
      if (c.prefix !== undefined && (addr === undefined || !prefixContains(c.prefix, addr))) continue;
      return c.profile;
    }
    return this.fallback;
  }
}
