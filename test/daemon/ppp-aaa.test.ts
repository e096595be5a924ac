/**
 * l2tpd terminates PPP (null data plane: PPP frames in L2TP data messages): a subscriber dials it
 * through a real L2TP tunnel and session, authenticates with PAP, CHAP or MS-CHAPv2 against the local
 * users file or a real FreeRADIUS, and reaches IPCP Opened with an address (pool, or RADIUS
 * Framed-IP-Address). A wrong password ends the call with CDN result 2/6.
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
  tmp = await makeTempDir('ppp-aaa-');
  writeFileSync(tmp.file('users'), '# test subscribers\nalice wonderland\nbob "bob secret"\n');
  radius = await startFreeRadius([
    { user: 'carol', password: 'radpass', reply: ['Framed-IP-Address = 198.18.62.77'] },
    { user: 'dave', password: 'shortlived', reply: ['Session-Timeout = 2'] },
  ]);
}, 120_000);
afterAll(async () => {
  await radius?.stop();
  await tmp?.cleanup();
});

function lnsConfig(aaa: 'local' | 'radius', pool: string, extra = { accounting: false, dm: '' }): string {
  return `
pools:
  default:
    ipv4: ["${pool}"]
ppp_profiles:
  default:
    auth: [mschapv2, chap, pap]
    aaa: ${aaa}
    dns: [198.18.0.53]
    lcp_echo_interval: 0s
aaa:
  local_users: ${tmp.file('users')}
  radius:
    servers:
      - { address: "127.0.0.1:${radius.authPort}", secret: ${radius.secret}, accounting_address: ${extra.accounting ? `"127.0.0.1:${radius.acctPort}"` : 'null'} }
${extra.dm}`;
}

async function lns(listen: string, config: string): Promise<DaemonProc> {
  const d = await startDaemon({ listen, config });
  stops.push(() => d.stop());
  return d;
}
function sub(o: Parameters<typeof subscriber>[0]): Subscriber {
  const s = subscriber(o);
  stops.push(() => s.stop());
  return s;
}

describe('PPP terminated by l2tpd, local users file', () => {
  for (const [i, proto] of (['pap', 'chap', 'mschapv2'] as const).entries()) {
    it(`${proto}: IPCP Opened with an address from the pool`, async () => {
      const d = await lns(`127.0.70.${10 + i}:1701`, lnsConfig('local', '198.18.60.10-198.18.60.20'));
      const s = sub({ user: 'alice', password: 'wonderland', auth: [proto] });
      await s.dial({ address: `127.0.70.${10 + i}`, port: 1701 }, `127.0.70.${20 + i}`);
      await until(() => s.ups[0], 15_000, 'PPP up');
      expect(s.ups[0]!.address).toMatch(/^198\.18\.60\.(1\d|20)$/);
      expect(s.ups[0]!.dns).toEqual(['198.18.0.53']);
      const up = await until(() => d.logLines().find((l) => l['msg'] === 'ppp up'), 5000, 'ppp up logged');
      expect(up).toMatchObject({ user: 'alice', authProtocol: proto, address: s.ups[0]!.address });
      expect((await d.json<SessionInfo[]>('show', 'sessions'))[0]?.state).toBe('established');
    });
  }

  it('a wrong password ends the call with CDN result 2/6', async () => {
    const d = await lns('127.0.70.15:1701', lnsConfig('local', '198.18.60.30-198.18.60.40'));
    const s = sub({ user: 'bob', password: 'wrong', auth: ['chap'] });
    await s.dial({ address: '127.0.70.15', port: 1701 }, '127.0.70.25');
    const closed = await until(() => d.logLines().find((l) => l['msg'] === 'session closed'), 15_000, 'session closed');
    expect(String(closed['reason'])).toMatch(/result 2\/6 \(PPP auth-failed/);
    expect(s.ups).toEqual([]);
  });
});

describe('PPP terminated by l2tpd, RADIUS (FreeRADIUS)', () => {
  for (const [i, proto] of (['pap', 'chap', 'mschapv2'] as const).entries()) {
    it(`${proto}: Access-Accept with Framed-IP-Address`, async () => {
      await lns(`127.0.71.${10 + i}:1701`, lnsConfig('radius', '198.18.61.10-198.18.61.20'));
      const s = sub({ user: 'carol', password: 'radpass', auth: [proto] });
      await s.dial({ address: `127.0.71.${10 + i}`, port: 1701 }, `127.0.71.${20 + i}`);
      await until(() => s.ups[0], 15_000, 'PPP up');
      expect(s.ups[0]!.address).toBe('198.18.62.77');
    });
  }

  it('Access-Reject ends the call', async () => {
    const d = await lns('127.0.71.15:1701', lnsConfig('radius', '198.18.61.30-198.18.61.40'));
    const s = sub({ user: 'carol', password: 'nope', auth: ['pap'] });
    await s.dial({ address: '127.0.71.15', port: 1701 }, '127.0.71.25');
    const closed = await until(() => d.logLines().find((l) => l['msg'] === 'session closed'), 15_000, 'session closed');
    expect(String(closed['reason'])).toMatch(/PPP auth-failed/);
  });
});

describe('RADIUS accounting and dynamic authorization through l2tpd', () => {
  it('Accounting Start reaches FreeRADIUS; a Disconnect-Request from radclient tears the session down (CDN) and Accounting Stop follows', async () => {
    const { freeUdpPort } = await import('../aaa/freeradius.js');
    const { findExecutable } = await import('../support/sysdeps.js');
    const { spawn } = await import('node:child_process');
    const dmPort = await freeUdpPort();
    const config = lnsConfig('radius', '198.18.63.10-198.18.63.20', {
      accounting: true,
      dm: `  dynamic_authorization:\n    listen: "127.0.0.1:${dmPort}"\n    clients: [{ address: 127.0.0.1, secret: dmsecret }]\n`,
    });
    const d = await lns('127.0.72.1:1701', config);
    const s = sub({ user: 'carol', password: 'radpass', auth: ['pap'] });
    await s.dial({ address: '127.0.72.1', port: 1701 }, '127.0.72.2', '5550172');
    await until(() => s.ups[0], 15_000, 'PPP up');
    await until(() => /Acct-Status-Type = Start/.test(radius.detail()) && /Calling-Station-Id = "5550172"/.test(radius.detail()) || undefined, 10_000, 'Accounting Start');

    const file = tmp.file('dm-request');
    writeFileSync(file, 'User-Name = "carol"\nCalling-Station-Id = "5550172"\n');
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(findExecutable('radclient')!, ['-x', '-r', '2', '-t', '2', '-f', file, `127.0.0.1:${dmPort}`, 'disconnect', 'dmsecret'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      c.stdout.on('data', (x: Buffer) => (o += x.toString()));
      c.stderr.on('data', (x: Buffer) => (o += x.toString()));
      c.on('error', reject);
      c.on('close', () => resolve(o));
    });
    expect(out).toMatch(/Received Disconnect-ACK/);
    const closed = await until(() => d.logLines().find((l) => l['msg'] === 'session closed'), 10_000, 'session closed');
    expect(String(closed['reason'])).toMatch(/CDN sent: result 3/);
    await until(() => /Acct-Status-Type = Stop/.test(radius.detail()) || undefined, 10_000, 'Accounting Stop');
    expect(radius.detail()).toMatch(/Acct-Terminate-Cause = Admin-Reset|Acct-Terminate-Cause = Lost-Carrier/);
  });

  it('Session-Timeout from RADIUS ends the session, and Accounting Stop says so', async () => {
    const d = await lns('127.0.72.5:1701', lnsConfig('radius', '198.18.63.30-198.18.63.40', { accounting: true, dm: '' }));
    const s = sub({ user: 'dave', password: 'shortlived', auth: ['chap'] });
    await s.dial({ address: '127.0.72.5', port: 1701 }, '127.0.72.6', '5550175');
    await until(() => s.ups[0], 15_000, 'PPP up');
    const up = Date.now();
    const closed = await until(() => d.logLines().find((l) => l['msg'] === 'session closed'), 10_000, 'session closed');
    expect(Date.now() - up).toBeGreaterThanOrEqual(1500);
    expect(String(closed['reason'])).toMatch(/Session-Timeout of 2 s reached/);
    await until(() => /Acct-Terminate-Cause = Session-Timeout/.test(radius.detail()) || undefined, 10_000, 'Accounting Stop with Session-Timeout');
  });

  it('CoA: Session-Timeout and Idle-Timeout are applied (ACK, the session ends); an attribute we cannot apply is a NAK and changes nothing', async () => {
    const { freeUdpPort } = await import('../aaa/freeradius.js');
    const { findExecutable } = await import('../support/sysdeps.js');
    const { spawn } = await import('node:child_process');
    const dmPort = await freeUdpPort();
    const d = await lns('127.0.72.9:1701', lnsConfig('radius', '198.18.63.50-198.18.63.60', {
      accounting: false,
      dm: `  dynamic_authorization:\n    listen: "127.0.0.1:${dmPort}"\n    clients: [{ address: 127.0.0.1, secret: dmsecret }]\n`,
    }));
    const s = sub({ user: 'carol', password: 'radpass', auth: ['pap'] });
    await s.dial({ address: '127.0.72.9', port: 1701 }, '127.0.72.10', '5550179');
    await until(() => s.ups[0], 15_000, 'PPP up');
    const coa = async (attrs: string) => {
      const file = tmp.file(`coa-${Math.random()}`);
      writeFileSync(file, attrs);
      return new Promise<string>((resolve, reject) => {
        const c = spawn(findExecutable('radclient')!, ['-x', '-r', '2', '-t', '2', '-f', file, `127.0.0.1:${dmPort}`, 'coa', 'dmsecret'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let o = '';
        c.stdout.on('data', (x: Buffer) => (o += x.toString()));
        c.stderr.on('data', (x: Buffer) => (o += x.toString()));
        c.on('error', reject);
        c.on('close', () => resolve(o));
      });
    };
    const nak = await coa('Calling-Station-Id = "5550179"\nFilter-Id = "gold"\n');
    expect(nak).toMatch(/Received CoA-NAK/);
    expect(nak).toMatch(/Error-Cause = Unsupported-Attribute/);
    await new Promise((r) => setTimeout(r, 300));
    expect(d.logLines().some((l) => l['msg'] === 'session closed')).toBe(false);
    // All or nothing: Idle-Timeout alone would be applied, but not beside an attribute we cannot apply.
    const mixed = await coa('Calling-Station-Id = "5550179"\nIdle-Timeout = 1\nFilter-Id = "gold"\n');
    expect(mixed).toMatch(/Received CoA-NAK/);
    await new Promise((r) => setTimeout(r, 1800));
    expect(d.logLines().some((l) => l['msg'] === 'session closed')).toBe(false);
    const ack = await coa('Calling-Station-Id = "5550179"\nSession-Timeout = 30\nIdle-Timeout = 1\n');
    expect(ack).toMatch(/Received CoA-ACK/);
    const closed = await until(() => d.logLines().find((l) => l['msg'] === 'session closed'), 10_000, 'session closed by the new Idle-Timeout');
    expect(String(closed['reason'])).toMatch(/Idle-Timeout of 1 s reached/);
  });
});
