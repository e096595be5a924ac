/**
 * A loaded, immutable configuration. A reload builds a new `Config` and swaps it in whole; running
 * tunnels and sessions keep the resolved profile objects they started with.
 */
import { UnknownProfileError } from './errors.js';
import { PeerMatcher } from './match.js';
import type { PeerIdentity } from './match.js';
import type { ProfileMaps } from './profiles.js';
import type { ResolvedParts } from './resolve.js';
import type {
  AaaConfig, EthernetProfile, PeerProfile, PoolConfig, PppProfile, ProfileKind, ProfileTypes, SessionProfile,
  SystemConfig, TunnelConfig, TunnelProfile,
} from './types.js';

export class Config {
  /** The file it was loaded from; undefined when built from defaults alone. */
  readonly file: string | undefined;
  readonly system: SystemConfig;
  /** Tunnels we originate at start, in file order. */
  readonly tunnels: readonly TunnelConfig[];
  /** Every profile of every type, fully resolved, `default` first and then in file order. */
  readonly profiles: ProfileMaps;
  /** Address pools by name, `default` (empty unless the file configures it) first, then file order. */
  readonly pools: ReadonlyMap<string, PoolConfig>;
  readonly aaa: AaaConfig;
  private readonly peers: PeerMatcher;

  /** Built by `parseConfig`/`loadConfig` only, after every check passed. */
  constructor(parts: ResolvedParts, file: string | undefined) {
    this.file = file;
    this.system = parts.system;
    this.tunnels = parts.tunnels;
    this.profiles = parts.profiles;
    this.pools = parts.pools;
    this.aaa = parts.aaa;
    this.peers = new PeerMatcher(parts.profiles.peer);
    Object.freeze(this);
  }

  tunnelProfile(name: string): TunnelProfile {
    return this.profile('tunnel', name);
  }

  sessionProfile(name: string): SessionProfile {
    return this.profile('session', name);
  }

  pppProfile(name: string): PppProfile {
    return this.profile('ppp', name);
  }

  ethernetProfile(name: string): EthernetProfile {
    return this.profile('ethernet', name);
  }

  peerProfile(name: string): PeerProfile {
    return this.profile('peer', name);
  }

  /** Throws `UnknownProfileError`; names taken from this config's own references always resolve. */
  profile<K extends ProfileKind>(kind: K, name: string): ProfileTypes[K] {
    const p = (this.profiles[kind] as ReadonlyMap<string, ProfileTypes[K]>).get(name);
    if (p === undefined) throw new UnknownProfileError(kind, name);
    return p;
  }

  /** The peer profile for an incoming tunnel: first match in file order, else `default`. */
  matchPeer(peer: PeerIdentity): PeerProfile {
    return this.peers.match(peer);
  }

  /** A pool by name; undefined when there is none (a ppp profile's `pool` always names one). */
  pool(name: string): PoolConfig | undefined {
    return this.pools.get(name);
  }

  tunnel(name: string): TunnelConfig | undefined {
    return this.tunnels.find((t) => t.name === name);
  }
}
