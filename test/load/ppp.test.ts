/**
 * l2tp-load --ppp against the real l2tpd terminating PPP (null data plane: PPP frames in L2TP data
 * messages) with a local users file, on loopback addresses of its own (127.0.140.x): every subscriber
 * authenticates (PAP, CHAP, MS-CHAPv2) and gets an address of the pool through IPCP, the per-phase
 * latencies are there, and what fails is counted by cause — our engine's (a wrong password) or the
 * LNS's CDN result codes (an exhausted pool). What the generator reports must match what l2tpd logged.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonProc } from '../support/daemon.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';
import { runL2tpLoad } from './support.js';

const SUBSCRIBERS = 15; // 3 tunnels × 5 sessions
const RUN = ['--tunnels', '3', '--sessions-per-tunnel', '5', '--rate', '100', '--ppp', '--user', 'user{n}@realm', '--password', 'pw{n}'];

let tmp: TempDir;
const stops: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  tmp = await makeTempDir('l2tp-load-ppp-');
  const users = Array.from({ length: SUBSCRIBERS }, (_, n) => `user${n}@realm pw${n}`);
  writeFileSync(tmp.file('users'), `# l2tp-load subscribers\n${users.join('\n')}\n`);
});
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});
afterAll(async () => {
  await tmp?.cleanup();
});

/** l2tpd with its defaults plus a pool, the users file and `ppp` keys for the default PPP profile. */
async function lns(listen: string, pool: string, ppp = ''): Promise<DaemonProc> {
  const config = `pools:\n  default:\n    ipv4: ["${pool}"]\nppp_profiles:\n  default:\n    auth: [mschapv2, chap, pap]\n${ppp}aaa:\n  local_users: ${tmp.file('users')}\n`;
  const d = await startDaemon({ listen, config });
  stops.push(() => d.stop());
  return d;
}

const ipv4 = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

describe('l2tp-load --ppp against l2tpd (local users)', () => {
  for (const [i, auth] of (['pap', 'chap', 'mschapv2'] as const).entries()) {
    it(`${auth}: every subscriber up with an address of the pool; per-phase latencies; l2tpd agrees`, async () => {
      const d = await lns(`127.0.140.${1 + i}:1701`, '198.18.140.1-198.18.140.100');
      const html = tmp.file(`${auth}.html`);
      const r = await runL2tpLoad([...RUN, '--target', `127.0.140.${1 + i}`, '--auth', auth, '--source', `127.0.140.${10 + 3 * i}-127.0.140.${12 + 3 * i}`, '--html', html], { json: tmp.file(`${auth}.json`) });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rep = r.report!;
      expect(rep.mode).toBe('ppp');
      expect(rep.options.ppp).toEqual({ auth, user: 'user{n}@realm', password: '(set)', ipv6cp: false, proxyLcp: false, proxyAuth: false });
      expect(rep.calls).toMatchObject({ planned: SUBSCRIBERS, established: SUBSCRIBERS, failed: 0, inProgressAtEnd: 0 });
      expect(rep.failures).toEqual([]);
      for (const p of ['call', 'lcp', 'auth', 'ipcp'] as const) {
        const l = rep.latencyMs[p];
        expect(l.count, p).toBe(SUBSCRIBERS);
        expect(l.p50!, p).toBeGreaterThan(0);
        expect(l.p50!, p).toBeLessThanOrEqual(l.p95!);
        expect(l.p95!, p).toBeLessThanOrEqual(l.p99!);
      }
      expect(rep.latencyMs.ipv6cp.count).toBe(0);
      expect(rep.ppp).toMatchObject({ addressesAssigned: SUBSCRIBERS });
      expect(ipv4(rep.ppp!.lowestAddress!)).toBeGreaterThanOrEqual(ipv4('198.18.140.1'));
      expect(ipv4(rep.ppp!.highestAddress!)).toBeLessThanOrEqual(ipv4('198.18.140.100'));
      expect(rep.packets.dataSent).toBeGreaterThan(0);

      // l2tpd's view: each subscriber by its own name ({n} = tunnel × 5 + call), each with its own address.
      const ups = d.logLines().filter((l) => l['msg'] === 'ppp up');
      expect(ups.map((l) => l['user']).sort()).toEqual(Array.from({ length: SUBSCRIBERS }, (_, n) => `user${n}@realm`).sort());
      expect(ups.every((l) => l['authProtocol'] === auth)).toBe(true);
      const addresses = ups.map((l) => String(l['address']));
      expect(new Set(addresses).size).toBe(SUBSCRIBERS);
      expect(Math.min(...addresses.map(ipv4))).toBe(ipv4(rep.ppp!.lowestAddress!));
      expect(Math.max(...addresses.map(ipv4))).toBe(ipv4(rep.ppp!.highestAddress!));

      expect(d.logs()).not.toMatch(/shard worker (error|died)/);

      const page = readFileSync(html, 'utf8');
      for (const p of ['lcp', 'auth', 'ipcp']) expect(page).toContain(`<svg id="chart-latency-${p}"`);
      expect(page).not.toContain('chart-latency-ipv6cp');
    });
  }

  it('a wrong password: every subscriber fails in auth, counted with the cause and the LNS\'s message', async () => {
    const d = await lns('127.0.140.4:1701', '198.18.140.101-198.18.140.120');
    const r = await runL2tpLoad([...RUN, '--target', '127.0.140.4', '--auth', 'chap', '--password', 'wrong{n}', '--source', '127.0.140.20-127.0.140.22'], { json: tmp.file('wrong.json') });
    expect(r.code).toBe(1);
    const rep = r.report!;
    expect(rep.calls).toMatchObject({ established: 0, failed: SUBSCRIBERS, inProgressAtEnd: 0 });
    expect(rep.failures).toEqual([{ phase: 'auth', kind: 'auth-failed', message: expect.any(String), count: SUBSCRIBERS }]);
    expect(r.stdout).toMatch(new RegExp(`failure ×${SUBSCRIBERS}: auth auth-failed: `));
    expect(rep.latencyMs.lcp.count).toBe(SUBSCRIBERS);
    expect(rep.latencyMs.auth.count).toBe(0);
    expect(rep.ppp!.addressesAssigned).toBe(0);
    const closed = d.logLines().filter((l) => l['msg'] === 'session closed');
    expect(closed).toHaveLength(SUBSCRIBERS);
    expect(closed.every((l) => /PPP auth-failed/.test(String(l['reason'])))).toBe(true);
  });

  it('an exhausted pool: the LNS ends the rest with CDN 2/6, counted in ipcp with its result codes', async () => {
    const d = await lns('127.0.140.5:1701', '198.18.140.121-198.18.140.124');
    const r = await runL2tpLoad([...RUN, '--target', '127.0.140.5', '--source', '127.0.140.23-127.0.140.25'], { json: tmp.file('exhausted.json') });
    expect(r.code).toBe(1);
    const rep = r.report!;
    const up = rep.calls.established;
    expect(up).toBeGreaterThan(0);
    expect(up).toBeLessThanOrEqual(4);
    expect(rep.calls.failed).toBe(SUBSCRIBERS - up);
    expect(rep.ppp!.addressesAssigned).toBe(up);
    expect(rep.failures).toEqual([{ phase: 'ipcp', kind: 'cdn', resultCode: 2, errorCode: 6, message: expect.stringMatching(/^PPP address-exhausted/), count: SUBSCRIBERS - up }]);
    expect(d.logLines().filter((l) => l['msg'] === 'ppp down' && l['cause'] === 'address-exhausted')).toHaveLength(SUBSCRIBERS - up);
  });

  it('IPv6CP, proxy LCP and proxy authentication; the LNS\'s LCP echoes are answered', async () => {
    const d = await lns('127.0.140.6:1701', '198.18.140.131-198.18.140.160', '    ipv6: true\n    lcp_echo_interval: 1s\n    lcp_echo_failures: 2\n');
    const r = await runL2tpLoad([...RUN, '--target', '127.0.140.6', '--auth', 'chap', '--ipv6cp', '--proxy-lcp', '--proxy-auth', '--duration', '4', '--source', '127.0.140.26-127.0.140.28'], {
      json: tmp.file('proxy.json'),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = r.report!;
    expect(rep.calls).toMatchObject({ established: SUBSCRIBERS, failed: 0, activeAtEnd: SUBSCRIBERS, clearedByPeer: 0 });
    expect(rep.latencyMs.ipcp.count).toBe(SUBSCRIBERS);
    expect(rep.latencyMs.ipv6cp.count).toBe(SUBSCRIBERS);
    // l2tpd took our LCP and the CHAP response from the ICCN: it negotiated no LCP of its own.
    expect(rep.ppp!.proxyLcpRefused).toBe(0);
    // Held ~3 s with an echo every second and 2 missed ones fatal: only answers kept them up.
    expect(rep.ppp!.lcpEchoRequestsAnswered).toBeGreaterThanOrEqual(2 * SUBSCRIBERS);
    const ups = d.logLines().filter((l) => l['msg'] === 'ppp up');
    expect(ups).toHaveLength(SUBSCRIBERS);
    expect(ups.every((l) => l['authProtocol'] === 'chap')).toBe(true);
    expect(d.logLines().filter((l) => l['msg'] === 'ppp down' && l['cause'] === 'echo-timeout')).toEqual([]);
    // The proxied LCP's state once made the shard worker die posting its failover record (DataCloneError).
    expect(d.logs()).not.toMatch(/shard worker (error|died)/);
  });

  it('proxy LCP refused by the LNS (proxy_lcp: false): it renegotiates and every subscriber still comes up', async () => {
    await lns('127.0.140.7:1701', '198.18.140.161-198.18.140.200', '    proxy_lcp: false\n');
    const r = await runL2tpLoad([...RUN, '--target', '127.0.140.7', '--proxy-lcp', '--source', '127.0.140.29-127.0.140.31'], { json: tmp.file('refused.json') });
    expect(r.code).toBe(0);
    expect(r.report!.calls).toMatchObject({ established: SUBSCRIBERS, failed: 0 });
    expect(r.report!.ppp!.proxyLcpRefused).toBe(SUBSCRIBERS);
  });
});
