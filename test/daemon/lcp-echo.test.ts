/**
 * l2tpd's LCP echo keepalive for subscribers carried in userspace (null data plane) on native tunnel sockets: the
 * addon sends the Echo-Requests and takes the replies (native/echo.c; `l2tpctl stats` counts them), a subscriber
 * that answers stays up, one that stops answering is cleared after lcp_echo_failures periods with CDN result 1 (loss
 * of carrier), and with socket_io: node the same keepalive runs in JavaScript.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/workers/views.js';
import { startDaemon, until, type DaemonProc } from '../support/daemon.js';
import { subscriber, type Subscriber } from '../support/subscriber.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});
let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir('echo-');
  writeFileSync(tmp.file('users'), 'alice pw\nbob pw\n');
});
afterAll(async () => tmp?.cleanup());

const config = (io: string) => `
system:
  socket_io: ${io}
aaa:
  local_users: ${tmp.file('users')}
pools:
  default:
    ipv4: ["198.18.65.10-198.18.65.20"]
ppp_profiles:
  default:
    auth: [pap]
    aaa: local
    lcp_echo_interval: 1s
    lcp_echo_failures: 2
`;

async function dialed(d: DaemonProc, listen: string, local: string, user: string): Promise<Subscriber> {
  const s = subscriber({ user, password: 'pw', auth: ['pap'] });
  stops.push(() => s.stop());
  await s.dial({ address: listen, port: 1701 }, local);
  await until(() => s.ups[0], 15_000, `PPP up for ${user}`);
  return s;
}

type Totals = Record<string, number>;

describe.each([
  ['native', '127.0.111.21', '127.0.111.22', '127.0.111.23'],
  ['node', '127.0.111.25', '127.0.111.26', '127.0.111.27'],
])('LCP echo keepalive (socket_io: %s)', (io, listen, a, b) => {
  it('keeps a subscriber that answers, clears one that stops answering with result 1', async () => {
    const d = await startDaemon({ listen: `${listen}:1701`, config: config(io), workers: 1 });
    stops.push(() => d.stop());
    const alice = await dialed(d, listen, a, 'alice');
    const bob = await dialed(d, listen, b, 'bob');
    await until(() => alice.echoes.requests >= 2 && bob.echoes.requests >= 2 || undefined, 6_000, 'two echoes each');
    expect(d.logLines().filter((l) => l['msg'] === 'ppp down')).toEqual([]);

    bob.deaf = true;
    const down = await until(() => d.logLines().find((l) => l['msg'] === 'ppp down'), 8_000, 'bob cleared');
    expect(down).toMatchObject({ cause: 'echo-timeout' });
    await until(() => bob.closed[0], 5_000, 'the CDN at the LAC');
    expect(bob.closed[0]).toMatch(/^CDN received: result 1\//);
    const left = await d.json<SessionInfo[]>('show', 'sessions');
    expect(left.filter((s) => s.state === 'established')).toHaveLength(1);
    expect(alice.ups).toHaveLength(1);
    expect(alice.downs).toEqual([]);

    const totals = (await d.json<{ totals: Totals }>('stats')).totals;
    if (io === 'native') {
      // The addon ran both keepalives: alice's is still there, bob's went dead.
      expect(totals['nativeEchoKeepalives']).toBe(1);
      expect(totals['nativeEchoDeadLinks']).toBe(1);
      expect(totals['nativeEchoRequestsSent']).toBeGreaterThanOrEqual(4);
      expect(totals['nativeEchoRepliesTaken']).toBeGreaterThanOrEqual(2);
    } else {
      expect(totals['nativeEchoKeepalives']).toBeUndefined();
    }
  });
});
