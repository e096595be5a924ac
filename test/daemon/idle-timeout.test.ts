/**
 * Idle-Timeout (RFC 2865 §5.28, here from the local users file's idle-timeout=): a subscriber that sends no data
 * for that long is disconnected with terminate cause Idle-Timeout; one without the limit stays. Null data plane:
 * activity is the session's data-message counters (the kernel data plane asks the unit, PPPIOCGIDLE).
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
  tmp = await makeTempDir('idle-');
  writeFileSync(tmp.file('users'), 'sleepy pw idle-timeout=2\nawake pw\n');
});
afterAll(async () => tmp?.cleanup());

const config = () => `
aaa:
  local_users: ${tmp.file('users')}
pools:
  default:
    ipv4: ["198.18.64.10-198.18.64.20"]
ppp_profiles:
  default:
    auth: [pap]
    aaa: local
    lcp_echo_interval: 0s
`;

async function dialed(listen: string, local: string, user: string): Promise<{ d: DaemonProc; s: Subscriber }> {
  const d = await startDaemon({ listen: `${listen}:1701`, config: config(), workers: 1 });
  stops.push(() => d.stop());
  const s = subscriber({ user, password: 'pw', auth: ['pap'] });
  stops.push(() => s.stop());
  await s.dial({ address: listen, port: 1701 }, local);
  await until(() => s.ups[0], 15_000, 'PPP up');
  return { d, s };
}

describe('Idle-Timeout', () => {
  it('disconnects a subscriber idle for longer than its idle-timeout, saying why', async () => {
    const { d } = await dialed('127.0.111.1', '127.0.111.2', 'sleepy');
    const started = Date.now();
    const down = await until(() => d.logLines().find((l) => l['msg'] === 'ppp down'), 10_000, 'ppp down');
    expect(String(down['message'])).toContain('Idle-Timeout of 2 s reached');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    await until(async () => ((await d.json<SessionInfo[]>('show', 'sessions')).length === 0 ? true : undefined), 5000, 'session gone');
  });

  it('keeps a subscriber without the limit', async () => {
    const { d } = await dialed('127.0.111.3', '127.0.111.4', 'awake');
    await new Promise((r) => setTimeout(r, 3500));
    expect(d.logLines().find((l) => l['msg'] === 'ppp down')).toBeUndefined();
    expect((await d.json<SessionInfo[]>('show', 'sessions'))[0]?.state).toBe('established');
  });
});
