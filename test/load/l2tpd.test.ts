/**
 * l2tp-load against the real l2tpd (built daemon, null data plane) on loopback addresses of its own
 * (127.0.80.x–127.0.84.x): what the generator reports must match what the LNS saw (l2tpctl --json).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionInfo, TunnelInfo } from '../../src/workers/views.js';
import { startDaemon, type DaemonProc } from '../support/daemon.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';
import { runL2tpLoad } from './support.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function daemon(listen: string, config = ''): Promise<DaemonProc> {
  const d = await startDaemon({ listen, config });
  stops.push(() => d.stop());
  return d;
}
async function tmp(): Promise<TempDir> {
  const t = await makeTempDir('l2tp-load-');
  stops.push(() => t.cleanup());
  return t;
}

describe('l2tp-load against l2tpd', () => {
  it('3 tunnels × 20 sessions come up; the report agrees with l2tpctl; HELLOs are answered; the HTML report has its charts', async () => {
    const d = await daemon('127.0.80.1:1701', 'tunnel_profiles:\n  default:\n    hello_interval: 1s\n');
    const t = await tmp();
    let seen: { tunnels: TunnelInfo[]; sessions: SessionInfo[] } | undefined;
    let last: TunnelInfo[] = [];
    const r = await runL2tpLoad(
      ['--target', '127.0.80.1', '--tunnels', '3', '--sessions-per-tunnel', '20', '--rate', '200', '--duration', '4', '--hostname', 'lac-{n}',
        '--source', '127.0.80.10-127.0.80.12', '--target-pid', String(d.proc.pid), '--html', t.file('r.html')],
      {
        json: t.file('r.json'),
        // While the run holds its calls, look at the LNS: the last complete view is what it saw.
        during: async () => {
          const sessions = await d.json<SessionInfo[]>('show', 'sessions');
          const tunnels = await d.json<TunnelInfo[]>('show', 'tunnels');
          if (tunnels.length === 3 && tunnels.every((x) => x.state === 'established')) last = tunnels;
          if (sessions.filter((s) => s.state === 'established').length === 60) seen ??= { tunnels, sessions };
        },
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = r.report!;
    expect(rep.outcome).toBe('duration');
    expect(rep.tunnels).toMatchObject({ planned: 3, attempts: 3, established: 3, failed: 0, lost: 0 });
    expect(rep.calls).toMatchObject({ planned: 60, attempted: 60, established: 60, failed: 0, inProgressAtEnd: 0, activeAtEnd: 60, clearedByPeer: 0 });
    expect(rep.failures).toEqual([]);

    // What l2tpd saw, from its own management API.
    expect(seen).toBeDefined();
    const up = seen!.tunnels.filter((x) => x.state === 'established');
    expect(up.map((x) => x.peerHostName).sort()).toEqual(['lac-0', 'lac-1', 'lac-2']);
    expect(up.map((x) => x.peerAddress).sort()).toEqual(['127.0.80.10', '127.0.80.11', '127.0.80.12']);
    expect(new Set(up.map((x) => `${x.peerAddress}:${x.peerPort}`)).size).toBe(3);
    expect(seen!.sessions.filter((s) => s.state === 'established' && s.callType === 'lnsIncoming')).toHaveLength(rep.calls.established);
    for (const x of up) expect(x.sessionCount).toBe(20);
    // While the calls were held (~3 s idle), l2tpd said HELLO every second and we acknowledged each one.
    expect(last).toHaveLength(3);
    for (const x of last) {
      expect(x.control.sent).toBeGreaterThanOrEqual(1 + 20 + 2); // SCCRP, 20 ICRP, HELLOs
      expect(x.control.retransmitted).toBe(0);
      expect(x.control.unacked).toBe(0);
    }

    // The numbers hang together.
    expect(rep.latencyMs.tunnel.count).toBe(3);
    expect(rep.latencyMs.call.count).toBe(60);
    const l = rep.latencyMs.call;
    expect(l.p50!).toBeGreaterThan(0);
    expect(l.p50!).toBeLessThanOrEqual(l.p95!);
    expect(l.p95!).toBeLessThanOrEqual(l.p99!);
    expect(rep.histograms.call.reduce((a, b) => a + b, 0)).toBe(60);
    expect(rep.timeline.established[rep.timeline.established.length - 1]).toBe(60);
    expect(rep.setupRate.sustained!).toBeGreaterThan(20);
    expect(rep.setupRate.peak!).toBeGreaterThan(0);
    expect(rep.packets.sent).toBeGreaterThanOrEqual(3 * 3 + 60 * 2);
    expect(rep.packets.retransmits).toBe(0);
    expect(rep.cpu.generator.cpuSeconds).toBeGreaterThan(0);
    expect(rep.cpu.target).toMatchObject({ pid: d.proc.pid });
    expect(rep.cpu.target!.cpuSeconds!).toBeGreaterThan(0);
    // StopCCN everywhere at the end: l2tpd no longer holds any of the tunnels up.
    const after = await d.json<TunnelInfo[]>('show', 'tunnels');
    expect(after.filter((x) => x.state === 'established')).toEqual([]);

    const html = readFileSync(t.file('r.html'), 'utf8');
    for (const id of ['chart-sessions', 'chart-rate', 'chart-cpu', 'chart-latency-tunnel', 'chart-latency-call']) expect(html).toContain(`<svg id="${id}"`);
    expect(html).toMatch(/<rect [^>]*fill="#2b7bb9"><title>/); // call latency bars were drawn
    // Offline: nothing to fetch, no script.
    expect(html).not.toMatch(/<script|\bsrc=|\bhref=|@import|url\(/i);
  });

  it.each(['native', 'node'])('holds each call, clears it with CDN at the teardown rate, and the LNS is left with none (--socket-io %s)', async (io) => {
    const d = await daemon('127.0.81.1:1701');
    const t = await tmp();
    const r = await runL2tpLoad(['--target', '127.0.81.1', '--tunnels', '2', '--sessions-per-tunnel', '25', '--rate', '250', '--hold', '0.3', '--teardown-rate', '500', '--source', '127.0.81.10', '--socket-io', io], { json: t.file('r.json') });
    expect(r.code).toBe(0);
    expect(r.report!.cpu.generator.socketIo).toBe(io);
    expect(r.report!.outcome).toBe('completed');
    expect(r.report!.calls).toMatchObject({ established: 50, tornDown: 50, activeAtEnd: 0, failed: 0 });
    expect(r.report!.latencyMs.teardown.count).toBe(50);
    const sessions = await d.json<SessionInfo[]>('show', 'sessions');
    expect(sessions.filter((s) => s.state === 'established')).toEqual([]);
    expect(d.logLines().filter((l) => l['msg'] === 'session closed' && /^CDN received: result 3/.test(String(l['reason'])))).toHaveLength(50);
  });

  it('--calls-after-tunnels: no call is established before every tunnel is up (without it, calls start on the first)', async () => {
    await daemon('127.0.81.2:1701');
    const t = await tmp();
    const args = ['--target', '127.0.81.2', '--tunnels', '3', '--tunnel-rate', '3', '--sessions-per-tunnel', '10', '--rate', '200', '--source', '127.0.81.20-127.0.81.22'];
    /** Samples where calls were up while not all tunnels were; and whether tunnels came up over several samples. */
    const early = async (extra: string[], name: string) => {
      const r = await runL2tpLoad([...args, ...extra], { json: t.file(name) });
      expect(r.code).toBe(0);
      expect(r.report!.calls).toMatchObject({ established: 30, failed: 0 });
      const tl = r.report!.timeline;
      return {
        callsBeforeAllTunnels: tl.t.filter((_, i) => tl.established[i]! > 0 && tl.tunnelsUp[i]! < 3).length,
        partlyUp: tl.t.filter((_, i) => tl.tunnelsUp[i]! > 0 && tl.tunnelsUp[i]! < 3).length,
      };
    };
    const waited = await early(['--calls-after-tunnels'], 'a.json');
    expect(waited.partlyUp).toBeGreaterThan(0);
    expect(waited.callsBeforeAllTunnels).toBe(0);
    const eager = await early([], 'b.json');
    expect(eager.callsBeforeAllTunnels).toBeGreaterThan(0);
  });

  it('a tunnel the LNS clears mid-run stops taking calls and the run still completes', async () => {
    const d = await daemon('127.0.81.3:1701');
    const t = await tmp();
    let deleted: number | undefined;
    const r = await runL2tpLoad(['--target', '127.0.81.3', '--tunnels', '2', '--sessions-per-tunnel', '100', '--rate', '40', '--source', '127.0.81.30-127.0.81.31'], {
      json: t.file('r.json'),
      timeoutMs: 40_000,
      during: async () => {
        if (deleted !== undefined) return;
        const tunnels = await d.json<TunnelInfo[]>('show', 'tunnels');
        const sessions = await d.json<SessionInfo[]>('show', 'sessions');
        if (tunnels.length === 2 && sessions.length >= 10) {
          deleted = tunnels[0]!.tunnelId;
          await d.ctl('tunnel', 'delete', String(deleted));
        }
      },
    });
    expect(deleted).toBeDefined();
    expect(r.signal).toBeNull();
    expect(r.report!.outcome).toBe('completed');
    // The other tunnel placed all its calls; the cleared one stopped short of its 100.
    expect(r.report!.calls.established).toBeGreaterThanOrEqual(100);
    expect(r.report!.calls.established).toBeLessThan(200);
  });

  it('challenge authentication and hidden AVPs with the right secret, L2TPv2 and L2TPv3 (message digests)', async () => {
    const config = 'tunnel_profiles:\n  default:\n    auth_mode: challenge\n    secret: s3cret\n    hide_avps: true\n';
    await daemon('127.0.82.1:1701', config);
    for (const version of ['2', '3']) {
      const r = await runL2tpLoad(['--target', '127.0.82.1', '--tunnels', '2', '--sessions-per-tunnel', '10', '--rate', '200', '--secret', 's3cret', '--challenge', '--hide-avps', '--version', version, '--source', '127.0.82.10']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/sessions 20\/20 established, 0 failed/);
    }
  });

  it('a wrong secret: a clear error naming the LNS\'s result code, bounded retries, exit code 3', async () => {
    await daemon('127.0.83.1:1701', 'tunnel_profiles:\n  default:\n    auth_mode: challenge\n    secret: right\n');
    const t = await tmp();
    const r = await runL2tpLoad(['--target', '127.0.83.1', '--tunnels', '2', '--sessions-per-tunnel', '5', '--secret', 'wrong', '--tunnel-retries', '1', '--source', '127.0.83.10'], { json: t.file('r.json') });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no tunnel could be established: tunnel stopccn result 4 error 0: invalid challenge response/);
    expect(r.report!.tunnels).toMatchObject({ planned: 2, attempts: 4, attemptsFailed: 4, established: 0, failed: 2 });
    expect(r.report!.failures).toEqual([{ phase: 'tunnel', kind: 'stopccn', resultCode: 4, errorCode: 0, message: 'invalid challenge response', count: 4 }]);
    expect(r.report!.calls).toMatchObject({ attempted: 0, notAttempted: 10 });
    expect(r.ms).toBeLessThan(15_000); // back-off 1 s, nothing more

    // With --challenge we check the LNS ourselves and refuse it.
    const r2 = await runL2tpLoad(['--target', '127.0.83.1', '--tunnels', '1', '--secret', 'wrong', '--challenge', '--tunnel-retries', '0', '--source', '127.0.83.11']);
    expect(r2.code).toBe(3);
    expect(r2.stderr).toMatch(/tunnel refused-by-us result 4: invalid challenge response/);
  });

  it('SIGTERM mid-run: StopCCN everywhere, the reports are still written, exit code 130', async () => {
    const d = await daemon('127.0.84.1:1701');
    const t = await tmp();
    const r = await runL2tpLoad(
      ['--target', '127.0.84.1', '--tunnels', '4', '--sessions-per-tunnel', '2000', '--rate', '400', '--source', '127.0.84.10-127.0.84.11', '--source-port', '1701', '--html', t.file('r.html')],
      { json: t.file('r.json'), signal: { name: 'SIGTERM', when: (_out, ms) => ms > 2000 } },
    );
    expect(r.code).toBe(130);
    const rep = r.report!;
    expect(rep.outcome).toBe('interrupted');
    expect(rep.reason).toBe('SIGTERM received');
    expect(rep.calls.established).toBeGreaterThan(100);
    expect(rep.calls.established).toBeLessThan(8000);
    expect(rep.calls.notAttempted).toBeGreaterThan(0);
    expect(readFileSync(t.file('r.html'), 'utf8')).toContain('<svg id="chart-sessions"');
    // One socket per source address on port 1701 (xl2tpd style): l2tpd saw 2 tunnels from each.
    const tunnels = await d.json<TunnelInfo[]>('show', 'tunnels');
    expect(tunnels).toHaveLength(4);
    expect(tunnels.every((x) => x.peerPort === 1701)).toBe(true);
    expect(tunnels.filter((x) => x.peerAddress === '127.0.84.10')).toHaveLength(2);
    // Every tunnel got our StopCCN.
    expect(tunnels.filter((x) => x.state === 'established')).toEqual([]);
    expect(tunnels.every((x) => /^StopCCN received: result 1/.test(x.reason ?? ''))).toBe(true);
  });
});
