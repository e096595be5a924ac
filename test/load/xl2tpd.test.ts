/**
 * l2tp-load against xl2tpd as LNS (Debian's, control plane only). After ICCN xl2tpd starts pppd, which
 * cannot run on these hosts, and clears the call with CDN result 1: the generator must count those
 * calls as established then cleared by the peer, not as set-up failures.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startXl2tpd } from '../support/xl2tpd.js';
import { makeTempDir } from '../support/tmp.js';
import { runL2tpLoad } from './support.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe('l2tp-load against xl2tpd as LNS', () => {
  it('3 tunnels × 5 calls: established, then cleared by xl2tpd (CDN result 1), none failed', async () => {
    const x = await startXl2tpd({ listenAddr: '127.0.85.1', lns: { hostname: 'xl2tpd-lns', ipRange: '198.18.85.10-198.18.85.250', localIp: '198.18.85.1' } });
    stops.push(() => x.stop());
    const t = await makeTempDir('l2tp-load-');
    stops.push(() => t.cleanup());
    // A hold longer than xl2tpd's pppd lives: every call is cleared by xl2tpd before we would.
    const r = await runL2tpLoad(['--target', '127.0.85.1', '--tunnels', '3', '--sessions-per-tunnel', '5', '--rate', '30', '--hold', '20', '--hostname', 'load-{n}', '--source', '127.0.85.10-127.0.85.12'], {
      json: t.file('r.json'),
      timeoutMs: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = r.report!;
    expect(rep.outcome).toBe('completed');
    expect(rep.tunnels).toMatchObject({ planned: 3, established: 3, failed: 0, lost: 0 });
    expect(rep.calls).toMatchObject({ planned: 15, established: 15, failed: 0, clearedByPeer: 15, tornDown: 0, activeAtEnd: 0 });
    expect(rep.failures).toEqual([]);
    expect(rep.clearedByPeer).toEqual([expect.objectContaining({ phase: 'call', kind: 'cdn', resultCode: 1, count: 15 })]);
    // xl2tpd saw each emulated LAC as a separate peer and established every call.
    expect(x.log().match(/Call established with 127\.0\.85\.1[0-2],/g)).toHaveLength(15);
    for (const a of ['127.0.85.10', '127.0.85.11', '127.0.85.12']) expect(x.log()).toContain(`Call established with ${a},`);
  });
});
