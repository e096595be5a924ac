/**
 * RADIUS against a real FreeRADIUS 3.2 (Debian package, started here on loopback): PAP, CHAP and
 * MS-CHAPv2 through the PPP authentication protocols of src/ppp/auth (subscriber side ⇄ LNS side with
 * a RadiusVerifier), accounting Start/Interim/Stop as FreeRADIUS's detail file records them, and
 * failover from a dead server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Accounting,
  newAcctSessionId,
  RadiusClient,
  RadiusVerifier,
  type AccountingSession,
  type RadiusVerdictAttributes,
} from '../../src/aaa/index.js';
import { createAuthClient, createAuthServer, type AuthProtocolName, type AuthResult, type CredentialVerifier } from '../../src/ppp/auth/index.js';
import { freeUdpPort, startFreeRadius, type FreeRadius } from './freeradius.js';

const NAS = { identifier: 'l2tpd-test', ipAddress: '127.0.0.1' };
const USERS = [
  {
    user: 'testuser',
    password: 'testpass',
    reply: [
      'Framed-IP-Address = 198.18.1.77',
      'Framed-Pool = "gold"',
      'Session-Timeout = 3600',
      'Idle-Timeout = 600',
      'Framed-Route = "198.18.5.0/24 0.0.0.0 1"',
      'Class = "cls-testuser"',
      'Acct-Interim-Interval = 300',
    ],
  },
  { user: 'plain', password: 'pl@in pass' },
];

let fr: FreeRadius;
let client: RadiusClient;
let verifier: RadiusVerifier;

beforeAll(async () => {
  fr = await startFreeRadius(USERS);
  client = new RadiusClient({ servers: [{ host: '127.0.0.1', port: fr.authPort, secret: fr.secret }], timeoutMs: 1000, retries: 2 });
  verifier = new RadiusVerifier(client, { nas: NAS });
});

afterAll(async () => {
  await client?.close();
  await fr?.stop();
});

/** One PPP authentication exchange in-process: the subscriber's AuthClient against the LNS's AuthServer. */
async function pppAuth(protocol: AuthProtocolName, user: string, password: string, v: CredentialVerifier): Promise<{ server: AuthResult; client: AuthResult }> {
  let serverResult: AuthResult | undefined;
  let clientResult: AuthResult | undefined;
  const done = new Promise<void>((resolve) => {
    const check = (): void => {
      if (serverResult && clientResult) resolve();
    };
    // Packets cross on the next tick, as they would over a link.
    const server = createAuthServer(protocol, (_p, pkt) => setImmediate(() => peer.receive(pkt)), v, (r) => ((serverResult = r), check()));
    const peer = createAuthClient(protocol, (_p, pkt) => setImmediate(() => server.receive(pkt)), { user, password }, (r) => ((clientResult = r), check()));
    peer.start();
    server.start();
  });
  await done;
  return { server: serverResult!, client: clientResult! };
}

describe('authentication against FreeRADIUS', () => {
  it('PAP: accept, with the reply attributes lifted into the verdict', async () => {
    const session = verifier.forSession({ sessionId: 4242, tunnelId: 7, callingNumber: '5551234', calledNumber: '5550000' });
    const v = await session.verify({ protocol: 'pap', user: 'testuser', password: 'testpass' });
    expect(v.ok).toBe(true);
    const a = v.attributes as RadiusVerdictAttributes;
    expect(a).toMatchObject({
      outcome: 'accept',
      framedIpAddress: '198.18.1.77',
      framedPool: 'gold',
      sessionTimeout: 3600,
      idleTimeout: 600,
      acctInterimInterval: 300,
      framedRoutes: [{ text: '198.18.5.0/24 0.0.0.0 1', prefix: '198.18.5.0/24', metric: 1 }],
    });
    expect(a.class?.map((c) => c.toString())).toEqual(['cls-testuser']);
    // What FreeRADIUS saw: the session's identity, and our Message-Authenticator verified (else it drops the packet).
    const log = fr.log();
    for (const line of ['NAS-Port = 4242', 'NAS-Port-Id = "7/4242"', 'NAS-Port-Type = Virtual', 'Calling-Station-Id = "5551234"', 'Called-Station-Id = "5550000"', 'Service-Type = Framed-User', 'Framed-Protocol = PPP', 'NAS-Identifier = "l2tpd-test"', 'Message-Authenticator = 0x']) {
      expect(log).toContain(line);
    }
  });

  it('PAP: a wrong password is rejected', async () => {
    const v = await verifier.verify({ protocol: 'pap', user: 'testuser', password: 'wrong' });
    expect(v.ok).toBe(false);
    expect((v.attributes as RadiusVerdictAttributes).outcome).toBe('reject');
  });

  for (const protocol of ['pap', 'chap', 'mschapv2'] as const) {
    it(`${protocol}: a full PPP exchange through RadiusVerifier succeeds, and fails with the wrong password`, async () => {
      const good = await pppAuth(protocol, 'plain', 'pl@in pass', verifier);
      expect(good.server.ok).toBe(true);
      // MS-CHAPv2: the subscriber accepted FreeRADIUS's authenticator response (MS-CHAP2-Success), i.e. mutual auth worked.
      expect(good.client.ok).toBe(true);
      const bad = await pppAuth(protocol, 'plain', 'not it', verifier);
      expect(bad.server.ok).toBe(false);
      expect(bad.client.ok).toBe(false);
    });
  }

  it('MS-CHAPv2: the Access-Request carries MS-CHAP-Challenge and MS-CHAP2-Response; the accept an S= response', async () => {
    let verdict: Awaited<ReturnType<CredentialVerifier['verify']>> | undefined;
    const spy: CredentialVerifier = { verify: async (req) => (verdict = await verifier.verify(req)) };
    const r = await pppAuth('mschapv2', 'testuser', 'testpass', spy);
    expect(r.client.ok).toBe(true);
    expect(verdict?.authenticatorResponse).toMatch(/^S=[0-9A-F]{40}$/);
    expect(fr.log()).toMatch(/MS-CHAP2-Response = 0x/);
    expect(fr.log()).toMatch(/MS-CHAP-Challenge = 0x/);
  });

  it('an unknown user is rejected, and a wrong shared secret makes the server unavailable (FreeRADIUS drops it)', async () => {
    expect((await verifier.verify({ protocol: 'pap', user: 'nobody', password: 'x' })).ok).toBe(false);
    const wrong = new RadiusClient({ servers: [{ host: '127.0.0.1', port: fr.authPort, secret: 'not-the-secret' }], timeoutMs: 300, retries: 1 });
    try {
      const v = await new RadiusVerifier(wrong, { nas: NAS }).verify({ protocol: 'chap', user: 'testuser', id: 1, challenge: Buffer.alloc(16, 1), response: Buffer.alloc(16) });
      expect(v).toMatchObject({ ok: false, attributes: { outcome: 'unavailable' } });
    } finally {
      await wrong.close();
    }
  });
});

describe('failover', () => {
  it('skips a dead first server, marks it dead, and tries it again once it revives', async () => {
    const deadPort = await freeUdpPort();
    const c = new RadiusClient({
      servers: [
        { host: '127.0.0.1', port: deadPort, secret: 'x' },
        { host: '127.0.0.1', port: fr.authPort, secret: fr.secret },
      ],
      timeoutMs: 200,
      retries: 1,
      deadTimeMs: 600,
    });
    try {
      const v = new RadiusVerifier(c, { nas: NAS });
      const t0 = Date.now();
      expect((await v.verify({ protocol: 'pap', user: 'testuser', password: 'testpass' })).ok).toBe(true);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(350); // two transmissions to the dead one first
      let [dead, live] = c.stats();
      expect(dead).toMatchObject({ dead: true, requests: 1, retransmissions: 1, timeouts: 1 });
      expect(live).toMatchObject({ dead: false, replies: 1 });
      // While dead, requests go straight to the second server.
      const t1 = Date.now();
      expect((await v.verify({ protocol: 'pap', user: 'testuser', password: 'testpass' })).ok).toBe(true);
      expect(Date.now() - t1).toBeLessThan(200);
      expect(c.stats()[0]!.requests).toBe(1);
      // After deadTimeMs the first server is live again and tried first.
      await new Promise((r) => setTimeout(r, 700));
      expect(c.stats()[0]!.dead).toBe(false);
      expect((await v.verify({ protocol: 'pap', user: 'testuser', password: 'testpass' })).ok).toBe(true);
      [dead, live] = c.stats();
      expect(dead!.requests).toBe(2);
      expect(live!.replies).toBe(3);
    } finally {
      await c.close();
    }
  });
});

describe('accounting against FreeRADIUS', () => {
  it('Start, Interim-Update and Stop land in the detail file with counters, Gigawords, Class and cause', async () => {
    const acctClient = new RadiusClient({ servers: [{ host: '127.0.0.1', port: fr.acctPort, secret: fr.secret }], timeoutMs: 1000 });
    const acct = new Accounting(acctClient, { nas: NAS });
    const s: AccountingSession = {
      acctSessionId: newAcctSessionId('t0'),
      user: 'testuser',
      startedAt: Date.now() - 125_000,
      sessionId: 4242,
      tunnelId: 7,
      callingNumber: '5551234',
      calledNumber: '5550000',
      framedIpAddress: '198.18.1.77',
      class: [Buffer.from('cls-testuser')],
    };
    try {
      expect(await acct.start(s)).toBe(true);
      expect(await acct.interim(s, { inputOctets: 1000, outputOctets: 2000, inputPackets: 10, outputPackets: 20 })).toBe(true);
      const big = 5n * 2n ** 32n + 77n;
      expect(await acct.stop(s, { inputOctets: big, outputOctets: 3000, inputPackets: 30, outputPackets: 40 }, 'Admin-Reset')).toBe(true);
    } finally {
      await acctClient.close();
    }
    const records = fr.detail().split(/\n\n+/).filter((r) => r.includes(`Acct-Session-Id = "${s.acctSessionId}"`));
    expect(records.map((r) => /Acct-Status-Type = (\S+)/.exec(r)?.[1])).toEqual(['Start', 'Interim-Update', 'Stop']);
    const [start, interim, stop] = records as [string, string, string];
    for (const r of records) {
      expect(r).toContain('User-Name = "testuser"');
      expect(r).toContain('NAS-Port = 4242');
      expect(r).toContain('Framed-IP-Address = 198.18.1.77');
      expect(r).toContain(`Class = 0x${Buffer.from('cls-testuser').toString('hex')}`);
      expect(r).toContain('Event-Timestamp = ');
      expect(r).toContain('NAS-Port-Type = Virtual');
    }
    expect(start).not.toContain('Acct-Session-Time');
    expect(interim).toMatch(/Acct-Session-Time = 12[5-7]\b/);
    expect(interim).toContain('Acct-Input-Octets = 1000');
    expect(interim).toContain('Acct-Output-Packets = 20');
    expect(stop).toContain('Acct-Input-Octets = 77');
    expect(stop).toContain('Acct-Input-Gigawords = 5');
    expect(stop).toContain('Acct-Terminate-Cause = Admin-Reset');
  });
});
