/**
 * l2tpctl's text views of what the daemon answers: aligned tables for lists, "key: value" blocks for one
 * object. Text is for people and may change; scripts read `--json`, whose field names are the protocol's.
 */
import { formatEndpoint, type SessionInfo, type StatsResult, type SystemStatus, type TunnelInfo } from './protocol.js';
import type { DataPlaneCounters } from '../dataplane/types.js';

const dash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v));
const yesNo = (v: boolean): string => (v ? 'yes' : 'no');

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[headers, ...rows].map(line).join('\n')}\n`;
}

/** "key:   value" lines with the values aligned. */
export function keyValues(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`.trimEnd()).join('\n') + '\n';
}

export function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) parts.push(`${d}d`);
  if (d || h) parts.push(`${h}h`);
  if (d || h || m) parts.push(`${m}m`);
  parts.push(`${s % 60}s`);
  return parts.join(' ');
}

export function statusText(s: SystemStatus): string {
  return keyValues([
    ['version', s.version],
    ['pid', String(s.pid)],
    ['uptime', duration(s.uptimeSeconds)],
    ['data plane', s.dataPlane.reason ? `${s.dataPlane.kind} (${s.dataPlane.reason})` : s.dataPlane.kind],
    ['shards', String(s.shards)],
    ['tunnels', String(s.tunnels)],
    ['sessions', String(s.sessions)],
    ['config file', dash(s.configFile)],
    ['listen', s.listen.length ? s.listen.join(', ') : '-'],
  ]);
}

const peerOf = (t: TunnelInfo) => formatEndpoint({ address: t.peerAddress, port: t.peerPort });

export function tunnelsText(tunnels: readonly TunnelInfo[]): string {
  if (tunnels.length === 0) return 'no tunnels\n';
  return table(
    ['ID', 'PEER-ID', 'PEER', 'HOST', 'VER', 'STATE', 'SESSIONS'],
    tunnels.map((t) => [String(t.tunnelId), String(t.peerTunnelId), peerOf(t), dash(t.peerHostName), String(t.version), t.state, String(t.sessionCount)]),
  );
}

export function sessionsText(sessions: readonly SessionInfo[]): string {
  if (sessions.length === 0) return 'no sessions\n';
  return table(
    ['TUNNEL', 'SESSION', 'PEER-SESSION', 'TYPE', 'STATE', 'CALLING', 'CALLED'],
    sessions.map((s) => [String(s.tunnelId), String(s.sessionId), String(s.peerSessionId), s.callType, s.state, dash(s.callingNumber), dash(s.calledNumber)]),
  );
}

export function tunnelText(t: TunnelInfo & { sessions?: SessionInfo[]; counters?: DataPlaneCounters | null }): string {
  const c = t.control;
  const block = keyValues([
    ['tunnel', String(t.tunnelId)],
    ['peer tunnel', String(t.peerTunnelId)],
    ['version', t.fellBackToV2 ? `${t.version} (fell back from v3)` : String(t.version)],
    ['state', t.state],
    ['role', t.role],
    ['local', formatEndpoint({ address: t.localAddress, port: t.localPort })],
    ['peer', peerOf(t)],
    ['peer host', dash(t.peerHostName)],
    ['peer vendor', dash(t.peerVendorName)],
    ['profile', t.profile],
    ['name', dash(t.name)],
    ['persistent', yesNo(t.persistent)],
    ['sessions', String(t.sessionCount)],
    ['created', t.createdAt],
    ['established', dash(t.establishedAt)],
    ['reason', dash(t.reason)],
    ['shard', String(t.shard)],
    ...(t.counters !== undefined ? [['data', countersText(t.counters)] as [string, string]] : []),
    [
      'control',
      `Ns ${c.ns}  Nr ${c.nr}  unacked ${c.unacked}  sent ${c.sent}  retransmitted ${c.retransmitted}  ` +
        `received ${c.received}  duplicates ${c.duplicates}  ZLB sent ${c.zlbSent}`,
    ],
  ]);
  return t.sessions === undefined ? block : `${block}\n${sessionsText(t.sessions)}`;
}

/** Data plane counters on one line (the kernel's statistics with the kernel data plane). */
function countersText(c: DataPlaneCounters | null | undefined): string {
  if (!c) return '-';
  return `rx ${c.rxPackets} packets ${c.rxBytes} bytes (${c.rxErrors} errors, ${c.rxSeqDiscards} seq discards)  tx ${c.txPackets} packets ${c.txBytes} bytes (${c.txErrors} errors)`;
}

export function sessionText(s: SessionInfo & { counters?: DataPlaneCounters | null }): string {
  return keyValues([
    ['tunnel', String(s.tunnelId)],
    ['session', String(s.sessionId)],
    ['peer tunnel', String(s.peerTunnelId)],
    ['peer session', String(s.peerSessionId)],
    ['type', s.callType],
    ['state', s.state],
    ['call serial', String(s.callSerialNumber)],
    ['pseudowire', s.pseudowire],
    ['calling', dash(s.callingNumber)],
    ['called', dash(s.calledNumber)],
    ['created', s.createdAt],
    ['established', dash(s.establishedAt)],
    ['reason', dash(s.reason)],
    ...(s.counters !== undefined ? [['data', countersText(s.counters)] as [string, string]] : []),
  ]);
}

/** One row per counter: its total, then its value on each shard. */
export function statsText(stats: StatsResult): string {
  const names = [...new Set([...Object.keys(stats.totals), ...stats.shards.flatMap((s) => Object.keys(s))])];
  if (names.length === 0) return 'no counters\n';
  return table(
    ['COUNTER', 'TOTAL', ...stats.shards.map((_, i) => `SHARD${i}`)],
    names.map((n) => [n, String(stats.totals[n] ?? 0), ...stats.shards.map((s) => String(s[n] ?? 0))]),
  );
}
