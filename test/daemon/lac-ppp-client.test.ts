/**
 * l2tpd as LAC running the subscriber's PPP itself (as xl2tpd's LAC does with pppd): a persistent tunnel with
 * a lac_incoming call whose ppp profile carries `user`/`password`; the LNS (another l2tpd, local users file)
 * authenticates it and hands out an address from its pool. Null data plane here; the kernel variant runs in
 * the VM (test/vm/kernel-lac.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { startDaemon, until, type DaemonProc } from '../support/daemon.js';
import { makeTempDir } from '../support/tmp.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});
async function daemon(listen: string | undefined, config: string): Promise<DaemonProc> {
  const d = await startDaemon({ ...(listen ? { listen } : {}), config, workers: 1 });
  stops.push(() => d.stop());
  return d;
}

async function lnsConfig(): Promise<string> {
  const dir = await makeTempDir('lac-client-');
  writeFileSync(dir.file('users'), 'user1 s3cret\n', { mode: 0o600 });
  return `
aaa:
  local_users: ${dir.file('users')}
ppp_profiles:
  default:
    auth: [chap, pap]
    aaa: local
    pool: subs
    local_address: 198.18.70.1
    lcp_echo_interval: 0s
pools:
  subs:
    ipv4: ["198.18.70.10-198.18.70.20"]
`;
}

const lacConfig = (lns: string, local: string, password: string) => `
system:
  listen: []
ppp_profiles:
  dialer:
    auth: [chap, pap]
    user: user1
    password: ${password}
    lcp_echo_interval: 0s
session_profiles:
  dialer:
    pseudowire: ppp
    ppp_profile: dialer
tunnels:
  - name: to-lns
    peer: ${lns}:1701
    local: ${local}
    persistent: true
    sessions:
      - name: s1
        type: lac_incoming
        session_profile: dialer
`;

describe('l2tpd as LAC with its own PPP client', () => {
  it('authenticates with the profile credentials and gets an address from the LNS pool', async () => {
    const lns = await daemon('127.0.110.2:1701', await lnsConfig());
    const lac = await daemon(undefined, lacConfig('127.0.110.2', '127.0.110.1', 's3cret'));
    const up = await until(() => lac.logLines().find((l) => l['msg'] === 'ppp up'), 20_000, 'PPP up at the LAC').catch((e: unknown) => {
      throw new Error(`${String(e)}\nLAC:\n${lac.logs()}\nLNS:\n${lns.logs()}`);
    });
    expect(up['address']).toMatch(/^198\.18\.70\.(1\d|20)$/);
    const served = await until(() => lns.logLines().find((l) => l['msg'] === 'ppp up'), 5000, 'PPP up at the LNS');
    expect(served).toMatchObject({ user: 'user1', address: up['address'] });
  });

  it('a wrong password: the LNS refuses, the LAC logs the authentication failure', async () => {
    await daemon('127.0.110.4:1701', await lnsConfig());
    const lac = await daemon(undefined, lacConfig('127.0.110.4', '127.0.110.3', 'wrong'));
    const down = await until(() => lac.logLines().find((l) => l['msg'] === 'ppp down'), 20_000, 'PPP down at the LAC');
    expect(String(down['cause'])).toMatch(/auth/);
  });

  it('refuses a profile with a user but no password, naming the key', async () => {
    const d = await startDaemon({ config: 'ppp_profiles:\n  dialer:\n    user: user1\n', workers: 1 }).catch((e: unknown) => e);
    const text = d instanceof Error ? d.message : (d as DaemonProc).logs();
    if (!(d instanceof Error)) stops.push(() => (d as DaemonProc).stop());
    expect(text).toMatch(/ppp_profiles\.dialer\.user.*user and password go together/s);
  });
});
