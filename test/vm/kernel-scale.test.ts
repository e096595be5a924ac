/**
 * 1,000 PPP sessions in one tunnel through the kernel (issue: kernel fast path): l2tp-load in PPP subscriber
 * mode dials l2tpd (kernel data plane) inside the VM; every session has its kernel L2TP session and ppp
 * interface with our address and a pool peer, and l2tp-load's StopCCN leaves none of them behind.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInVm } from './run.js';

describe('1,000 PPP sessions through the kernel', () => {
  it('each with its kernel session and ppp interface; all gone after StopCCN', async () => {
    const r = await runInVm(fileURLToPath(new URL('./scripts/kernel-scale.sh', import.meta.url)), {
      env: { MODE: 'test', SESSIONS: '1000' },
      timeoutMs: 900_000,
      memMb: 2048,
      smp: 2,
    });
    expect(r.rc, r.console.slice(-6000)).toBe(0);
    expect(r.console).toContain('ok - 1000 kernel L2TP sessions');
    expect(r.console).toContain('ok - 1000 ppp interfaces');
    expect(r.console).toContain('ok - echo replies came back through the kernel sessions');
    // The echo figures (l2tp-load's `data` section), for the record in the test output.
    console.log(/^\{"sessions".*"lossPercent".*$/m.exec(r.console)?.[0] ?? 'no echo figures in the console');
    expect(r.console).toContain('KERNEL-SCALE OK (test, 1000 sessions)');
    await rm(r.outDir, { recursive: true, force: true });
  }, 1_000_000);
});
