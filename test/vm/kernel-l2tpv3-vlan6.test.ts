/**
 * The kernel data plane over IPv6 with an Ethernet-VLAN pseudowire (issue: kernel fast path), inside the VM: two
 * l2tpd build an L2TPv3 tunnel over UDP/IPv6; a configured session with a session profile of its own carries VLAN
 * 100 (RFC 4719) as an l2tpeth with a VLAN interface on each side; ping and TCP cross; tunnel delete leaves nothing.
 * See scripts/l2tpv3-vlan6.sh.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInVm } from './run.js';

const script = fileURLToPath(new URL('./scripts/l2tpv3-vlan6.sh', import.meta.url));

describe('two l2tpd with the kernel data plane, IPv6 tunnel, Ethernet-VLAN pseudowire', () => {
  it('VLAN interfaces on l2tpeth, per-session profile, ping and TCP, clean teardown', async () => {
    const r = await runInVm(script, { timeoutMs: 420_000 });
    expect(r.rc, r.console).toBe(0);
    expect(r.console).toContain('L2TPV3-VLAN6 OK');
    expect(r.console).toContain("ok - pe-a's tunnel runs over IPv6");
    expect(r.console).toContain('ok - pwv-a.100 is an 802.1Q VLAN 100 on pwv-a');
    expect(r.console).toContain('ok - the sink in lns got all 4194304 bytes');
    await rm(r.outDir, { recursive: true, force: true });
  }, 480_000);
});
