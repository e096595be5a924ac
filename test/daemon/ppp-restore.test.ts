/**
 * A shard worker restart (`l2tpctl shard restart N --crash`) brings back the PPP of the sessions it
 * terminated, not only their L2TP state: the restored engine answers the subscriber's LCP echoes and
 * sends its own, the subscriber's address stays reserved in the restarted worker's pool, the teardown
 * returns it, accounting goes on with the same Acct-Session-Id, and Session-Timeout keeps what was left.
 * One worker, so the restarted pool is the whole pool: without the reservation the next subscriber
 * would get the restored one's address.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/workers/views.js';
import { startFreeRadius, type FreeRadius } from '../aaa/freeradius.js';
import { startDaemon, until, type DaemonProc } from '../support/daemon.js';
import { subscriber, type Subscriber } from '../support/subscriber.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});
let tmp: TempDir;
let radius: FreeRadius;
beforeAll(async () => {
  tmp = await makeTempDir('ppp-restore-');
  writeFileSync(tmp.file('users'), 'alice wonderland\nbob builder\ncarol pw\ndave pw session-timeout=4\n');
  radius = await startFreeRadius([]);
}, 120_000);
afterAll(async () => {
  await radius?.stop();
  await tmp?.cleanup();
});

const config = (pool: string) => `
pools:
  default:
    ipv4: ["${pool}"]
ppp_profiles:
  default:
    auth: [pap]
    aaa: local
    lcp_echo_interval: 1s
aaa:
  local_users: ${tmp.file('users')}
  radius:
    servers:
      - { address: "127.0.0.1:${radius.authPort}", secret: ${radius.secret}, accounting_address: "127.0.0.1:${radius.acctPort}" }
`;

async function lns(address: string, pool: string): Promise<DaemonProc> {
  const d = await startDaemon({ listen: `${address}:1701`, config: config(pool), workers: 1 });
  stops.push(() => d.stop());
  return d;
}
async function dialed(lnsAddress: string, local: string, user: string, password: string, calling: string, echoIntervalMs = 0): Promise<Subscriber> {
  const s = subscriber({ user, password, auth: ['pap'], echoIntervalMs, echoFailures: 10 });
  stops.push(() => s.stop());
  await s.dial({ address: lnsAddress, port: 1701 }, local, calling);
  await until(() => s.ups[0], 15_000, `PPP up for ${user}`);
  return s;
}
/** FreeRADIUS detail records of one calling number, with one status type. */
const accounting = (calling: string, status: 'Start' | 'Stop') =>
  radius
    .detail()
    .split(/\n\n+/)
    .filter((r) => r.includes(`Calling-Station-Id = "${calling}"`) && r.includes(`Acct-Status-Type = ${status}`));
const attribute = (record: string, name: string) => new RegExp(`${name} = "?([^"\\n]*)"?`).exec(record)?.[1];
const restartShard = async (d: DaemonProc) => {
  await new Promise((r) => setTimeout(r, 300)); // past the 50 ms durability point
  const r = await d.json<{ restored: number }>('shard', 'restart', '0', '--crash');
  expect(r.restored).toBe(1);
};

describe('PPP across a shard worker restart', () => {
  it('the restored engine answers and sends LCP echoes; the address stays reserved until the teardown; Stop continues the accounting session', async () => {
    const d = await lns('127.0.120.1', '198.18.120.10-198.18.120.11');
    // Echoes every 200 ms; the subscriber gives up after 10 unanswered ones (a restart takes about 0.5 s).
    const alice = await dialed('127.0.120.1', '127.0.120.2', 'alice', 'wonderland', '5550120', 200);
    expect(alice.ups[0]!.address).toBe('198.18.120.10');
    const start = await until(() => accounting('5550120', 'Start')[0], 10_000, 'Accounting Start');
    const acctSessionId = attribute(start, 'Acct-Session-Id');
    expect(acctSessionId).toBeTruthy();
    const upAt = Date.now();

    await restartShard(d);
    const resumed = await until(() => d.logLines().find((l) => l['msg'] === 'ppp resumed'), 5000, 'ppp resumed');
    expect(resumed).toMatchObject({ user: 'alice', address: '198.18.120.10' });
    const before = { ...alice.echoes };
    await new Promise((r) => setTimeout(r, 2500));
    expect(alice.echoes.replies - before.replies).toBeGreaterThanOrEqual(5);
    expect(alice.echoes.requests - before.requests).toBeGreaterThanOrEqual(1); // LNS keepalive re-armed (1 s)
    expect(alice.downs).toEqual([]);
    expect(alice.closed).toEqual([]);
    expect((await d.json<SessionInfo[]>('show', 'sessions')).map((s) => s.state)).toEqual(['established']);
    expect(d.logLines().some((l) => l['msg'] === 'ppp down')).toBe(false);

    // The restarted worker's pool knows the address is taken: the next subscriber gets the other one.
    const bob = await dialed('127.0.120.1', '127.0.120.3', 'bob', 'builder', '5550121');
    expect(bob.ups[0]!.address).toBe('198.18.120.11');

    // The subscriber hangs up: the restored engine returns the address and accounting stops the same session.
    const call = alice.lac.listSessions()[0]!;
    alice.lac.deleteSession(call.tunnelId, call.sessionId);
    const stop = await until(() => accounting('5550120', 'Stop')[0], 10_000, 'Accounting Stop');
    expect(attribute(stop, 'Acct-Session-Id')).toBe(acctSessionId);
    expect(Number(attribute(stop, 'Acct-Session-Time'))).toBeGreaterThanOrEqual(Math.floor((Date.now() - upAt) / 1000) - 1);
    expect(accounting('5550120', 'Start')).toHaveLength(1);
    const carol = await dialed('127.0.120.1', '127.0.120.4', 'carol', 'pw', '5550122');
    expect(carol.ups[0]!.address).toBe('198.18.120.10');
  });

  it('Session-Timeout keeps counting from the original start, not from the restart', async () => {
    const d = await lns('127.0.120.5', '198.18.120.20-198.18.120.21');
    const dave = await dialed('127.0.120.5', '127.0.120.6', 'dave', 'pw', '5550125');
    const upAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    await restartShard(d);
    const closed = await until(() => d.logLines().find((l) => l['msg'] === 'session closed'), 10_000, 'session closed');
    const after = Date.now() - upAt;
    expect(String(closed['reason'])).toMatch(/Session-Timeout of 4 s reached/);
    // A timer armed afresh at the restart would fire 4 s after it (≥ 5.3 s after the start).
    expect(after).toBeGreaterThanOrEqual(3500);
    expect(after).toBeLessThan(5000);
    expect(dave.closed).toHaveLength(1);
    const stop = await until(() => accounting('5550125', 'Stop')[0], 10_000, 'Accounting Stop');
    expect(stop).toMatch(/Acct-Terminate-Cause = Session-Timeout/);
  });
});
