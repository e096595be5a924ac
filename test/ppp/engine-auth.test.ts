/**
 * The engine with the real authentication protocols of src/ppp/auth (PAP, CHAP-MD5, MS-CHAPv2) and
 * the local users verifier: the factories plug in as PppEngineConfig's authServer/authClient.
 */
import { describe, expect, it } from 'vitest';
import { createAuthClient, createAuthServer, LocalVerifier } from '../../src/ppp/auth/index.js';
import type { AuthProtocolName } from '../../src/ppp/auth/types.js';
import { pair, run } from './support/link.js';

const verifier = new LocalVerifier({ alice: { password: 'secret', attributes: { framedIpAddress: '192.0.2.11', dnsServers: ['203.0.113.1'] } } });

describe('PppEngine with src/ppp/auth', () => {
  it.each<AuthProtocolName>(['pap', 'chap', 'mschapv2'])('%s: client ⇄ server reach IPCP Opened', async (name) => {
    const t = pair({
      server: { auth: [name], authServer: createAuthServer, verifier },
      client: { auth: ['mschapv2', 'chap', 'pap'], authClient: createAuthClient },
    });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 3000);
    expect(t.server.ups[0]).toMatchObject({ user: 'alice', authProtocol: name, address: '192.0.2.11' });
    expect(t.client.ups[0]).toMatchObject({ address: '192.0.2.11', authProtocol: name, dns: ['203.0.113.1'] });
  });

  it('the client Naks to the protocol it prefers among those offered', async () => {
    const t = pair({
      server: { auth: ['pap', 'mschapv2'], authServer: createAuthServer, verifier },
      client: { auth: ['mschapv2'], authClient: createAuthClient },
    });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 3000);
    expect(t.server.ups[0]?.authProtocol).toBe('mschapv2');
  });

  it.each<AuthProtocolName>(['chap', 'mschapv2'])('%s with a wrong password: auth-failed on both ends', async (name) => {
    const t = pair({
      server: { auth: [name], authServer: createAuthServer, verifier },
      client: { auth: [name], authClient: createAuthClient, credentials: { user: 'alice', password: 'nope' } },
    });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 10_000);
    expect(t.server.downs.map((d) => d.cause)).toEqual(['auth-failed']);
    expect(t.client.downs.map((d) => d.cause)).toEqual(['auth-failed']);
    expect(t.pool.taken.size).toBe(0);
  });
});
