/**
 * The kernel data plane's L2TPv3 Ethernet pseudowires for real (issue: kernel fast path), inside the VM: two l2tpd
 * build a pseudowire over UDP and over IP encapsulation; the l2tpeth interfaces get their configured names, MTU and
 * bridge, the kernel sessions hold the cookies, ping and a 16 MiB TCP transfer cross, and SIGTERM, `tunnel delete`
 * and kill -9 leave nothing in the kernel. See scripts/l2tpv3-pw.sh.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInVm } from './run.js';

const script = fileURLToPath(new URL('./scripts/l2tpv3-pw.sh', import.meta.url));

describe('two l2tpd with the kernel data plane build an L2TPv3 Ethernet pseudowire', () => {
  it.each(['udp', 'ip'])('over %s: l2tpeth interfaces, cookies, ping and 16 MiB TCP, clean teardown', async (encap) => {
    const r = await runInVm(script, { env: { ENCAP: encap }, timeoutMs: 600_000 });
    expect(r.rc, r.console).toBe(0);
    expect(r.console).toContain(`L2TPV3-PW OK (${encap})`);
    expect(r.console).toContain('ok - pw-b is enslaved to br-pw');
    expect(r.console).toContain('ok - the sink in lns got all 16777216 bytes');
    await rm(r.outDir, { recursive: true, force: true });
  }, 660_000);
});
