/**
 * Two l2tpd instances build an L2TPv3 control connection and an Ethernet pseudowire session (null
 * data plane), with control message authentication; and l2tpd offering L2TPv3 to xl2tpd (v2 only)
 * falls back to L2TPv2.
 */
import { describe, expect, it } from 'vitest';
import type { SessionInfo, TunnelInfo } from '../../src/workers/views.js';
import { daemonsPerTest, until } from '../support/daemon.js';
import { startXl2tpd } from '../support/xl2tpd.js';

const daemons = daemonsPerTest();
const daemon = daemons.start;

const V3 = `
tunnel_profiles:
  default:
    version: 3
    auth_mode: challenge
    secret: pw-secret
    digest: hmac-sha1
session_profiles:
  default:
    pseudowire: ethernet
    cookie_length: 8
    l2_specific_sublayer: default
`;

describe('L2TPv3 between two l2tpd', () => {
  it('control connection and an Ethernet pseudowire session, authenticated with HMAC-SHA-1 digests', async () => {
    const a = await daemon('127.0.65.1:1701', V3);
    const b = await daemon('127.0.65.2:1701', V3);
    const created = await a.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.65.2', '--local', '127.0.65.1', '--version', '3');
    const ta = await until(async () => {
      const t = await a.json<TunnelInfo>('show', 'tunnel', String(created.tunnelId));
      return t.state === 'established' ? t : undefined;
    }, 10_000, 'v3 control connection');
    expect(ta).toMatchObject({ version: 3, role: 'initiator', fellBackToV2: false });
    const tb = (await b.json<TunnelInfo[]>('show', 'tunnels'))[0]!;
    expect(tb).toMatchObject({ version: 3, role: 'responder', state: 'established', peerTunnelId: ta.tunnelId, tunnelId: ta.peerTunnelId });

    const s = await a.json<SessionInfo>('session', 'create', String(ta.tunnelId));
    const sa = await until(async () => {
      const x = await a.json<SessionInfo>('show', 'session', String(ta.tunnelId), String(s.sessionId));
      return x.state === 'established' ? x : undefined;
    }, 10_000, 'pseudowire session');
    expect(sa.pseudowire).toBe('ethernet');
    const sb = (await b.json<SessionInfo[]>('show', 'sessions'))[0]!;
    expect(sb).toMatchObject({ state: 'established', pseudowire: 'ethernet', peerSessionId: sa.sessionId, callType: 'lnsIncoming' });
    expect(sa.peerSessionId).toBe(sb.sessionId);
    // Nothing was dropped for a bad digest on either side.
    expect((await a.json<TunnelInfo>('show', 'tunnel', String(ta.tunnelId))).control.retransmitted).toBe(0);
  });

  it('a wrong secret on one side: every message fails authentication and no connection forms', async () => {
    const a = await daemon('127.0.65.5:1701', V3);
    await daemon('127.0.65.6:1701', V3.replace('pw-secret', 'other-secret'));
    const created = await a.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.65.6', '--local', '127.0.65.5', '--version', '3');
    await new Promise((r) => setTimeout(r, 2500));
    const t = await a.json<TunnelInfo>('show', 'tunnel', String(created.tunnelId));
    expect(t.state).not.toBe('established');
  });
});

describe('L2TPv3 offered to a peer that only speaks L2TPv2', () => {
  it('falls back to L2TPv2 against xl2tpd', async () => {
    const d = await daemon('127.0.66.1:1701', '');
    const x = await startXl2tpd({ listenAddr: '127.0.66.2', lns: { hostname: 'v2-only' } });
    daemons.onCleanup(() => x.stop());
    const created = await d.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.66.2', '--local', '127.0.66.1', '--version', '3');
    expect(created.version).toBe(3);
    const t = await until(async () => {
      const tt = await d.json<TunnelInfo>('show', 'tunnel', String(created.tunnelId));
      return tt.state === 'established' ? tt : undefined;
    }, 15_000, 'fallback to v2');
    expect(t).toMatchObject({ version: 2, fellBackToV2: true, peerHostName: 'v2-only' });
  });
});
