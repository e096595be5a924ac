/**
 * The kernel data plane for real (issue: kernel fast path), inside the VM: xl2tpd + pppd from Debian dial
 * l2tpd as LNS; PPP (PAP and CHAP) authenticates against our users file, IPCP gives the client an address
 * from our pool, ping and a 16 MiB TCP transfer cross ppp <-> kernel L2TP, LCP echo holds the link, l2tpctl
 * shows the kernel's counters, and neither teardown nor kill -9 leaves kernel objects behind.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInVm } from './run.js';

const script = fileURLToPath(new URL('./scripts/lns-pppd.sh', import.meta.url));

describe('l2tpd as LNS with the kernel data plane, dialled by xl2tpd + pppd', () => {
  it.each(['chap', 'pap'])('%s: PPP up, ping and 16 MiB TCP through the kernel, counters, clean teardown', async (auth) => {
    const r = await runInVm(script, { env: { AUTH: auth }, timeoutMs: 420_000 });
    expect(r.rc, r.console).toBe(0);
    expect(r.console).toContain(`LNS-PPPD OK (${auth})`);
    expect(r.console).toContain('ok - rx bytes cover the 16 MiB transfer');
    expect(r.console).toContain('ok - no kernel session in lns');
    await rm(r.outDir, { recursive: true, force: true });
  }, 480_000);
});
