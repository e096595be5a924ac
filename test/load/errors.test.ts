/**
 * l2tp-load refuses what it must not do and stops by itself when the LNS is not there.
 */
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/tmp.js';
import { runL2tpLoad } from './support.js';

describe('l2tp-load errors', () => {
  it('refuses targets outside loopback and 198.18.0.0/15, names, and bad values, with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--target', '192.0.2.1'], /--target: 192\.0\.2\.1: only loopback \(127\.0\.0\.0\/8, ::1\) or 198\.18\.0\.0\/15 is allowed/],
      [['--target', 'lns.example.com:1701'], /--target: "lns\.example\.com:1701" is not an IP address/],
      [['--target', '127.0.86.1', '--source', '10.0.0.1'], /--source: 10\.0\.0\.1: only loopback/],
      [['--target', '127.0.86.1', '--rate', '0'], /--rate: must be a number from 0\.001/],
      [['--target', '127.0.86.1', '--challenge'], /--challenge: needs --secret/],
      [['--tunnels', '3'], /--target: required/],
      [['--target', '127.0.86.1', '--source-port', '1701'], /--source-port: a fixed source port needs --source/],
      [['--target', '127.0.86.1', '--auth', 'chap'], /--auth: needs --ppp/],
      [['--target', '127.0.86.1', '--ppp', '--auth', 'eap'], /option '--auth <protocol>' argument 'eap' is invalid/],
      [['--target', '127.0.86.1', '--ppp', '--proxy-auth'], /--proxy-auth: needs --proxy-lcp/],
    ];
    for (const [args, err] of cases) {
      const r = await runL2tpLoad(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(err);
    }
  });

  it('a config file gives every option; the command line wins; unknown keys are refused', async () => {
    const t = await makeTempDir('l2tp-load-');
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(t.file('bad.yaml'), 'target: 127.0.86.1\nsesions-per-tunnel: 4\n');
      const bad = await runL2tpLoad(['--config', t.file('bad.yaml')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/unknown key "sesions-per-tunnel" \(did you mean "sessions-per-tunnel"\?\)/);
      // Nothing listens on 127.0.86.2: the file's target is used, the command line's retries win.
      writeFileSync(t.file('ok.json'), JSON.stringify({ target: '198.18.86.1', tunnels: 2, 'max-retransmits': 0, tunnelRetries: 5, abortAfter: 2 }));
      const r = await runL2tpLoad(['--config', t.file('ok.json'), '--target', '127.0.86.2', '--tunnel-retries', '0'], { json: t.file('r.json') });
      expect(r.report!.options).toMatchObject({ target: { address: '127.0.86.2', port: 1701 }, tunnels: 2, maxRetransmits: 0, tunnelRetries: 0, abortAfter: 2 });
    } finally {
      await t.cleanup();
    }
  });

  it('an LNS that does not answer: bounded retries, a clear error, exit code 3, and it stops by itself', async () => {
    const t = await makeTempDir('l2tp-load-');
    try {
      // Retransmissions at 1 s and 2 s: each attempt gives up after 3 s; 2 attempts per tunnel.
      const r = await runL2tpLoad(['--target', '127.0.86.3', '--tunnels', '3', '--sessions-per-tunnel', '10', '--max-retransmits', '1', '--tunnel-retries', '1', '--source', '127.0.86.10'], {
        json: t.file('r.json'),
        timeoutMs: 30_000,
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/no tunnel could be established.*no answer to SCCRQ after 1 retransmissions \(is an LNS listening at 127\.0\.86\.3:1701\?\)/);
      expect(r.report!.tunnels).toMatchObject({ planned: 3, attempts: 6, attemptsFailed: 6, established: 0, failed: 3 });
      expect(r.report!.failures).toEqual([expect.objectContaining({ phase: 'tunnel', kind: 'timeout', count: 6 })]);
      expect(r.ms).toBeGreaterThan(6000);
      expect(r.ms).toBeLessThan(15_000);
    } finally {
      await t.cleanup();
    }
  });
});
