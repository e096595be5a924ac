/** The pure parts of l2tp-load: histogram quantiles, option parsing, splitting the work over workers. */
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowedAddress, expandTemplate, LoadOptionError, parseSources, parseTarget, readConfigFile, resolveOptions } from '../../load/options.js';
import { oneSecondRate } from '../../load/report.js';
import { planWorkers, timeLimitMs } from '../../load/run.js';
import { newHistogram, quantile, recordLatency } from '../../load/stats.js';
import { niceTicks } from '../../load/svg.js';
import { makeTempDir } from '../support/tmp.js';

describe('chart scale', () => {
  it('niceTicks ends at or above the maximum (a line or bar never runs past the top), in 1-2-5 steps from 0', () => {
    expect(niceTicks(1200)).toEqual([0, 500, 1000, 1500]);
    expect(niceTicks(115)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0)).toEqual([0]);
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e9, noNaN: true }), (max) => {
        const t = niceTicks(max);
        expect(t[0]).toBe(0);
        expect(t[t.length - 1]!).toBeGreaterThanOrEqual(max * 0.9999);
        expect(t.length).toBeLessThanOrEqual(12);
      }),
    );
  });
});

describe('latency histogram', () => {
  it('quantiles are within one bucket (±4.5%) of the exact order statistic', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.02, max: 50_000, noNaN: true }), { minLength: 1, maxLength: 400 }), fc.constantFrom(0.5, 0.95, 0.99), (xs, q) => {
        const h = newHistogram();
        for (const x of xs) recordLatency(h, x);
        const sorted = [...xs].sort((a, b) => a - b);
        const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)]!;
        const got = quantile(h, q)!;
        expect(got / exact).toBeGreaterThan(1 / 1.1);
        expect(got / exact).toBeLessThan(1.1);
      }),
    );
  });

  it('the one-second rate is the slope of the cumulative count', () => {
    const t = [0, 0.25, 0.5, 0.75, 1, 1.25];
    const c = [0, 100, 200, 300, 400, 500];
    expect(oneSecondRate(t, c, 5)).toBe(400);
    expect(oneSecondRate(t, c, 0)).toBe(0);
  });
});

describe('options', () => {
  it('only loopback and 198.18.0.0/15', () => {
    for (const a of ['127.0.0.1', '127.255.1.2', '::1', '198.18.0.1', '198.19.255.254', '::ffff:127.0.0.1']) expect(allowedAddress(a)).toBe(true);
    for (const a of ['10.0.0.1', '198.20.0.1', '192.0.2.1', '::2', '2001:db8::1', '8.8.8.8']) expect(allowedAddress(a)).toBe(false);
  });

  it('targets and source ranges', () => {
    expect(parseTarget('127.0.0.1')).toEqual({ address: '127.0.0.1', port: 1701 });
    expect(parseTarget('198.18.0.5:1702')).toEqual({ address: '198.18.0.5', port: 1702 });
    expect(parseTarget('[::1]:1701')).toEqual({ address: '::1', port: 1701 });
    expect(() => parseTarget('127.0.0.1:0')).toThrow(LoadOptionError);
    expect(parseSources(['127.0.0.10-127.0.0.12', '127.0.1.1'])).toEqual(['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.1.1']);
    expect(parseSources(['127.0.0.255-127.0.1.1'])).toHaveLength(3);
    expect(() => parseSources(['127.0.0.9-127.0.0.1'])).toThrow(/ends before it starts/);
  });

  it('defaults: one worker on a two-core machine, max outstanding bounded by the calls', () => {
    const o = resolveOptions({ target: '127.0.0.1', tunnels: '3', sessionsPerTunnel: '20' }, {}, 2);
    expect(o).toMatchObject({ workers: 1, rate: 100, tunnelRate: 100, teardownRate: 100, maxOutstanding: 60, holdMs: null, durationMs: null, version: 2, sourcePort: 'auto' });
    expect(resolveOptions({ target: '127.0.0.1' }, {}, 8).workers).toBe(4);
    expect(o.callsAfterTunnels).toBe(false);
    expect(resolveOptions({ target: '127.0.0.1', callsAfterTunnels: true }, {}, 2).callsAfterTunnels).toBe(true);
  });
});

describe('PPP subscriber options', () => {
  const base = { target: '127.0.0.1' };

  it('off by default; --ppp gives PAP, user{n} / pw{n}, IPCP only, no proxy', () => {
    expect(resolveOptions(base).ppp).toBeNull();
    expect(resolveOptions({ ...base, ppp: true }).ppp).toEqual({ auth: 'pap', user: 'user{n}', password: 'pw{n}', ipv6cp: false, proxyLcp: false, proxyAuth: false });
  });

  it('from a config file (kebab-case or camelCase keys) with the command line winning', async () => {
    const t = await makeTempDir('l2tp-load-');
    try {
      writeFileSync(t.file('ppp.yaml'), 'ppp: true\nauth: chap\nuser: "sub{n}@isp"\nproxy-lcp: true\nproxyAuth: yes\nipv6cp: true\n');
      const file = readConfigFile(t.file('ppp.yaml'));
      expect(resolveOptions({ ...base, auth: 'pap' }, file).ppp).toEqual({ auth: 'pap', user: 'sub{n}@isp', password: 'pw{n}', ipv6cp: true, proxyLcp: true, proxyAuth: true });
    } finally {
      await t.cleanup();
    }
  });

  it('refuses what cannot work, naming the option', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ auth: 'chap' }, /^--auth: needs --ppp/],
      [{ proxyLcp: true }, /^--proxy-lcp: needs --ppp/],
      [{ ppp: true, auth: 'eap' }, /^--auth: must be one of pap, chap, mschapv2/],
      [{ ppp: true, version: '3' }, /^--ppp: PPP subscriber mode runs over L2TPv2/],
      [{ ppp: true, proxyAuth: true }, /^--proxy-auth: needs --proxy-lcp/],
      [{ ppp: true, proxyLcp: true, proxyAuth: true, auth: 'mschapv2' }, /^--proxy-auth: MS-CHAPv2 has no Proxy Authen Type/],
      [{ ppp: true, user: '' }, /^--user: must be 1\.\.240 octets/],
    ];
    for (const [o, err] of cases) expect(() => resolveOptions({ ...base, ...o }), JSON.stringify(o)).toThrow(err);
  });

  it('{n} is the subscriber\'s global index', () => {
    expect(expandTemplate('user{n}@realm', 0)).toBe('user0@realm');
    expect(expandTemplate('{n}-{n}', 12345)).toBe('12345-12345');
  });
});

describe('splitting the work', () => {
  const base = resolveOptions({ target: '127.0.0.1', tunnels: '10', sessionsPerTunnel: '7', rate: '1000', workers: '3', source: ['127.0.0.10-127.0.0.13'] }, {}, 2);

  it('every tunnel once; rates and max outstanding shared in proportion', () => {
    const plans = planWorkers(base);
    expect(plans).toHaveLength(3);
    const idx = plans.flatMap((p) => p.tunnels.map((t) => t.index)).sort((a, b) => a - b);
    expect(idx).toEqual([...Array(10).keys()]);
    expect(plans.reduce((s, p) => s + p.callRate, 0)).toBeCloseTo(1000);
    expect(plans.every((p) => p.tunnels.every((t) => t.port === 0 && t.calls === 7))).toBe(true);
  });

  it('with a fixed source port, all tunnels of one address stay in one worker (one socket per address)', () => {
    const plans = planWorkers({ ...base, sourcePort: 1701 });
    const owner = new Map<string, number>();
    for (const p of plans) for (const t of p.tunnels) {
      expect(owner.get(t.source!) ?? p.worker).toBe(p.worker);
      owner.set(t.source!, p.worker);
    }
    expect(owner.size).toBe(4);
  });

  it('a run without --duration still has a finite time limit', () => {
    const l = timeLimitMs(base);
    expect(Number.isFinite(l)).toBe(true);
    expect(l).toBeLessThan(10 * 60_000);
  });
});
