/**
 * What l2tpd itself puts on the wire, captured live on lo, decodes cleanly in tshark: an L2TPv2
 * exchange with xl2tpd (challenge authentication, a call, hang-up) and an authenticated L2TPv3
 * exchange between two l2tpd (tshark checks the Message Digests with the shared secret).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TunnelInfo } from '../../src/workers/views.js';
import { startCapture } from '../support/capture.js';
import { startDaemon, until } from '../support/daemon.js';
import { expertErrors, fieldValues, tsharkDecode } from '../support/tshark.js';
import { startXl2tpd } from '../support/xl2tpd.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe('l2tpd packets decode cleanly in tshark', () => {
  it('L2TPv2 with xl2tpd and authenticated L2TPv3 between two l2tpd', async () => {
    const cap = await startCapture('udp and net 127.0.67.0/24');
    stops.push(() => cap.cleanup());
    const v2 = await startDaemon({ listen: '127.0.67.1:1701', config: 'tunnel_profiles:\n  default:\n    auth_mode: challenge\n    secret: wiresecret\n' });
    stops.push(() => v2.stop());
    const x = await startXl2tpd({ listenAddr: '127.0.67.2', secret: 'wiresecret', lacs: [{ name: 't1', lns: '127.0.67.1', hostname: 'wire-lac', challenge: true }] });
    stops.push(() => x.stop());
    await x.control('c t1');
    await until(() => v2.logLines().find((l) => l['msg'] === 'session closed'), 10_000, 'call to come and go');

    const v3cfg = 'tunnel_profiles:\n  default:\n    version: 3\n    auth_mode: challenge\n    secret: wiresecret\nsession_profiles:\n  default:\n    pseudowire: ethernet\n    cookie_length: 4\n';
    const a = await startDaemon({ listen: '127.0.67.3:1701', config: v3cfg });
    stops.push(() => a.stop());
    const b = await startDaemon({ listen: '127.0.67.4:1701', config: v3cfg });
    stops.push(() => b.stop());
    const t = await a.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.67.4', '--local', '127.0.67.3', '--version', '3');
    await until(async () => (await a.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).state === 'established' || undefined, 10_000, 'v3 tunnel');
    await a.json('session', 'create', String(t.tunnelId));
    await until(() => b.logLines().find((l) => l['msg'] === 'session established'), 10_000, 'v3 session');
    await a.json('tunnel', 'delete', String(t.tunnelId));
    await until(() => a.logLines().find((l) => l['msg'] === 'tunnel closed'), 10_000, 'v3 StopCCN');

    const file = await cap.stop();
    const packets = await tsharkDecode(file, { prefs: { 'l2tp.shared_secret': 'wiresecret' } });
    const ours = packets.filter((p) => ['127.0.67.1', '127.0.67.3', '127.0.67.4'].includes(fieldValues(p, 'ip.src')[0] ?? ''));
    const types = ours.flatMap((p) => fieldValues(p, 'l2tp.avp.message_type').slice(0, 1).map(Number));
    // SCCRP, ICRP and ZLBs from the v2 LNS; SCCRQ..StopCCN from the v3 pair.
    expect(types).toEqual(expect.arrayContaining([1, 2, 3, 4, 10, 11, 12]));
    expect(ours.length).toBeGreaterThan(10);
    const bad = ours.filter((p) => p.malformed || expertErrors(p).length > 0).map((p) => ({ n: p.number, e: expertErrors(p).map((e) => e.message) }));
    expect(bad).toEqual([]);
    // The v3 messages carry digests tshark verified (an incorrect one would be an expert error above).
    expect(ours.filter((p) => fieldValues(p, 'l2tp.avp.message_digest').length > 0).length).toBeGreaterThan(5);
  });
});
