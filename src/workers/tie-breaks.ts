/**
 * Our SCCRQs that await an SCCRP, indexed by peer address, so a peer's SCCRQ finds a competing one
 * of ours without scanning (RFC 2661 §4.4.3, RFC 3931 §5.4.3).
 */
import type { Logger } from 'pino';
import { tieBreak } from '../actors/handshake.js';
import type { Tunnel } from '../actors/tunnel.js';

export class OutstandingRequests {
  private readonly byAddress = new Map<string, Set<number>>();

  constructor(
    private readonly tunnels: ReadonlyMap<number, Tunnel>,
    private readonly log: Logger,
  ) {}

  /** Call on every state change of a tunnel we initiated (and when it is gone). */
  track(t: Tunnel): void {
    const key = t.data.peer.address;
    let set = this.byAddress.get(key);
    if (t.state === 'waitCtlReply' && this.tunnels.has(t.id)) {
      if (!set) this.byAddress.set(key, (set = new Set()));
      set.add(t.id);
    } else if (set) {
      set.delete(t.id);
      if (set.size === 0) this.byAddress.delete(key);
    }
  }

  /**
   * True when the peer's SCCRQ must be ignored because our own outstanding SCCRQ to it wins (or
   * both lose); our losing tunnel is discarded silently (no StopCCN).
   */
  peerLoses(address: string, theirs: Buffer | undefined): boolean {
    for (const id of this.byAddress.get(address) ?? []) {
      const t = this.tunnels.get(id);
      if (!t || t.state !== 'waitCtlReply') continue;
      const outcome = tieBreak(t.data.tieBreaker, theirs);
      if (outcome === 'separate') continue;
      this.log.info({ tunnel: t.id, peer: address, outcome }, 'SCCRQ tie breaker');
      if (outcome === 'theirs' || outcome === 'both') t.actor.send({ type: 'DEAD', reason: 'lost the tie breaker (RFC 2661 §4.4.3)' });
      if (outcome === 'ours' || outcome === 'both') return true;
    }
    return false;
  }
}
