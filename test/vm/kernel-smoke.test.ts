/**
 * The kernel VM harness boots Debian's kernel and the data-plane features are there: the l2tp generic netlink
 * family (from node, with the netlink package), /dev/ppp, and an L2TPv3 Ethernet pseudowire that carries pings.
 * Also proves the harness reports failure: a script's exit status, its environment, and a hung VM.
 */
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './assets.js';
import { NO_STATUS_RC, runInVm } from './run.js';

const script = (name: string): string => fileURLToPath(new URL(`./scripts/${name}`, import.meta.url));

describe('kernel VM', () => {
  it('has the l2tp genl family, /dev/ppp, and an L2TPv3 Ethernet pseudowire that passes ping', async () => {
    const r = await runInVm(script('smoke.sh'), { timeoutMs: 150_000 });
    expect(r.rc, r.console).toBe(0);
    expect(r.console).toMatch(/generic netlink family l2tp: id \d+/);
    expect(r.console).toContain('ok - /dev/ppp is a character device');
    expect(r.console).toContain('ok - ping through the pseudowire');
    expect(r.console).toContain('SMOKE OK');
    expect(await readFile(`${r.outDir}/console.log`, 'utf8')).toBe(r.console);
    await rm(r.outDir, { recursive: true, force: true });
  }, 180_000);

  it("reports the script's exit status and passes it PROJECT, OUT and the env option", async () => {
    const r = await runInVm(script('exit-status.sh'), { env: { EXIT_STATUS: '3', GREETING: "it's a b c" } });
    expect(r.rc, r.console).toBe(3);
    expect(r.timedOut).toBe(false);
    const env = await readFile(`${r.outDir}/env.txt`, 'utf8');
    expect(env).toContain(`PROJECT=${PROJECT_ROOT}\n`);
    expect(env).toContain(`OUT=${r.outDir}\n`);
    expect(env).toContain("GREETING=it's a b c\n");
    expect(env).toContain('uid=0\n');
    await rm(r.outDir, { recursive: true, force: true });
  }, 180_000);

  it(`kills a VM that outlives its timeout and reports rc ${NO_STATUS_RC}`, async () => {
    const r = await runInVm(script('hang.sh'), { timeoutMs: 20_000 });
    expect(r.timedOut).toBe(true);
    expect(r.rc).toBe(NO_STATUS_RC);
    expect(r.console).toContain('hanging'); // it did boot: the kill, not a boot failure, ended it
    expect(r.durationMs).toBeLessThan(30_000);
    await rm(r.outDir, { recursive: true, force: true });
  }, 180_000);
});
