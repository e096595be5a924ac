/**
 * What `l2tpctl` and the management API show of tunnels and sessions. Field names are stable: scripts
 * and tests rely on them (`--json`).
 */
import type { Session } from '../actors/session.js';
import type { Tunnel } from '../actors/tunnel.js';

export interface TunnelInfo {
  tunnelId: number;
  peerTunnelId: number;
  version: 2 | 3;
  state: string;
  role: 'initiator' | 'responder';
  localAddress: string;
  localPort: number;
  peerAddress: string;
  peerPort: number;
  peerHostName: string | null;
  peerVendorName: string | null;
  sessionCount: number;
  profile: string;
  name: string | null;
  persistent: boolean;
  createdAt: string;
  establishedAt: string | null;
  reason: string | null;
  shard: number;
  fellBackToV2: boolean;
  control: { ns: number; nr: number; unacked: number; sent: number; retransmitted: number; received: number; duplicates: number; zlbSent: number };
}

export interface SessionInfo {
  tunnelId: number;
  sessionId: number;
  peerTunnelId: number;
  peerSessionId: number;
  callType: string;
  state: string;
  callSerialNumber: number;
  pseudowire: string;
  callingNumber: string | null;
  calledNumber: string | null;
  createdAt: string;
  establishedAt: string | null;
  reason: string | null;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function tunnelInfo(t: Tunnel, shard: number): TunnelInfo {
  const snap = t.channel.snapshot();
  return {
    tunnelId: t.id,
    peerTunnelId: t.data.peerTunnelId,
    version: t.data.version,
    state: t.state,
    role: t.data.role,
    localAddress: t.data.local.address,
    localPort: t.data.local.port,
    peerAddress: t.data.peer.address,
    peerPort: t.data.peer.port,
    peerHostName: t.data.peerHostName ?? null,
    peerVendorName: t.data.peerVendorName ?? null,
    sessionCount: t.sessions.size,
    profile: t.data.profile,
    name: t.data.name ?? null,
    persistent: t.data.persistent,
    createdAt: iso(t.data.createdAt)!,
    establishedAt: iso(t.data.establishedAt),
    reason: t.reason ?? null,
    shard,
    fellBackToV2: t.data.fellBackToV2 ?? false,
    control: {
      ns: snap.ns,
      nr: snap.nr,
      unacked: snap.unacked.length,
      sent: snap.stats.sent,
      retransmitted: snap.stats.retransmitted,
      received: snap.stats.received,
      duplicates: snap.stats.duplicates,
      zlbSent: snap.stats.zlbSent,
    },
  };
}

export function sessionInfo(s: Session): SessionInfo {
  return {
    tunnelId: s.data.localTunnelId,
    sessionId: s.data.localSessionId,
    peerTunnelId: s.tunnel.data.peerTunnelId,
    peerSessionId: s.data.peerSessionId,
    callType: s.data.callType,
    state: s.state,
    callSerialNumber: s.data.callSerialNumber,
    pseudowire: s.data.pseudowire,
    callingNumber: s.data.callingNumber ?? null,
    calledNumber: s.data.calledNumber ?? null,
    createdAt: iso(s.data.createdAt)!,
    establishedAt: iso(s.data.establishedAt),
    reason: s.reason ?? null,
  };
}
