/**
 * l2tpd as LAC with the kernel data plane (issue: kernel fast path): its own PPP client over a kernel PPPoL2TP
 * session dials Debian's xl2tpd + pppd as LNS; CHAP, IPCP, ping and 16 MiB TCP across both kernels, LCP echo,
 * and SIGTERM leaves nothing of ours in the kernel.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInVm } from './run.js';

describe('l2tpd as LAC (kernel data plane) toward xl2tpd + pppd', () => {
  it('PPP up with the LNS address, ping and TCP through the kernel, clean stop', async () => {
    const r = await runInVm(fileURLToPath(new URL('./scripts/lac-pppd.sh', import.meta.url)), { timeoutMs: 240_000 });
    expect(r.rc, r.console).toBe(0);
    expect(r.console).toContain('ok - the sink in lns got all 16777216 bytes');
    expect(r.console).toContain('LAC-PPPD OK');
    await rm(r.outDir, { recursive: true, force: true });
  }, 300_000);
});
