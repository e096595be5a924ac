/**
 * The engine against itself (client ⇄ server) in virtual time: the RFC scenarios of issue 4.
 */
import { describe, expect, it } from 'vitest';
import { PppEngine } from '../../src/ppp/engine.js';
import { decodeControl, decodeFrame, decodeOptions, encodeControlFrame, encodeFrame, PppCode, PppProtocol } from '../../src/ppp/frame.js';
import { fakePapServer, MapVerifier } from './support/fake-pap.js';
import { FakePool, pair, run } from './support/link.js';

const LCP = PppProtocol.LCP;

describe('PppEngine client ⇄ server', () => {
  it('reaches IPCP Opened with an address from the pool, DNS and the user', async () => {
    const t = pair();
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.server.ups).toHaveLength(1);
    expect(t.client.ups).toHaveLength(1);
    const s = t.server.ups[0]!;
    const c = t.client.ups[0]!;
    expect(s.address).toBe('192.0.2.10');
    expect(c.address).toBe('192.0.2.10');
    expect(c.dns).toEqual(['198.51.100.53', '198.51.100.54']);
    expect(c.gateway).toBe('192.0.2.1');
    expect(s.user).toBe('alice');
    expect(s.attributes).toEqual({ 'Session-Timeout': 3600 });
    expect(s.authProtocol).toBe('pap');
    expect(s.peerMagic).toBe(c.magic);
    expect(c.peerMagic).toBe(s.magic);
    expect(s.magic).not.toBe(0);
    expect(t.server.engine.phase).toBe('opened');
    expect(t.client.engine.phase).toBe('opened');
    // At rest while Opened: nothing but the automaton's state and context (DESIGN.md).
    expect(t.server.engine.lcp.hibernating).toBe(true);
    expect(t.server.engine.ipcp!.hibernating).toBe(true);
    expect(t.server.engine.counters.malformed + t.client.engine.counters.malformed).toBe(0);
    expect(t.server.engine.counters.discarded + t.client.engine.counters.discarded).toBe(0);
  });

  it('negotiates the MRU each side asks for', async () => {
    const t = pair({ server: { mru: 1400 }, client: { mru: 1460 } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.server.ups[0]).toMatchObject({ mru: 1400, peerMru: 1460 });
    expect(t.client.ups[0]).toMatchObject({ mru: 1460, peerMru: 1400 });
  });

  it('recovers lost Configure-Requests with the Restart timer (RFC 1661 §4.6)', async () => {
    let lcpLost = 0;
    let ipcpLost = 0;
    const t = pair({
      drop: (r) => {
        if (r.protocol === LCP && r.code === PppCode.ConfigureRequest && r.dir === 'c2s' && lcpLost < 2) return ++lcpLost > 0;
        if (r.protocol === PppProtocol.IPCP && r.code === PppCode.ConfigureRequest && r.dir === 's2c' && ipcpLost < 1) return ++ipcpLost > 0;
        return false;
      },
    });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 20_000);
    expect(lcpLost).toBe(2);
    expect(ipcpLost).toBe(1);
    expect(t.server.ups).toHaveLength(1);
    expect(t.client.ups).toHaveLength(1);
    // Two client requests lost: the third went out after two 3 s restarts.
    const clientCrs = t.wire.filter((w) => w.dir === 'c2s' && w.protocol === LCP && w.code === PppCode.ConfigureRequest);
    expect(clientCrs.length).toBeGreaterThanOrEqual(3);
    expect(clientCrs[2]!.at - clientCrs[0]!.at).toBe(6000);
    // A retransmission keeps its Identifier (RFC 1661 §5.1).
    expect(clientCrs[1]!.identifier).toBe(clientCrs[0]!.identifier);
  });

  it('gives up after Max-Configure requests to a silent peer (TO-, tlf)', async () => {
    const t = pair({ drop: (r) => r.dir === 's2c' || r.dir === 'c2s' });
    t.server.engine.start();
    await run(t.clock, 40_000, 100);
    const crs = t.wire.filter((w) => w.dir === 's2c' && w.code === PppCode.ConfigureRequest);
    expect(crs).toHaveLength(10);
    expect(t.server.downs).toEqual([{ cause: 'negotiation-failed', message: 'LCP finished' }]);
    expect(t.server.engine.phase).toBe('dead');
    expect(t.clock.pending()).toBe(0);
  });

  it('wrong password: authentication fails, LCP is terminated, no address is taken', async () => {
    const t = pair({ client: { credentials: { user: 'alice', password: 'wrong' } } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 10_000);
    expect(t.server.downs).toEqual([{ cause: 'auth-failed', message: 'Login incorrect' }]);
    expect(t.client.downs[0]?.cause).toBe('auth-failed');
    expect(t.server.ups).toEqual([]);
    expect(t.pool.taken.size).toBe(0);
    expect(t.clock.pending()).toBe(0);
  });

  it('Terminate-Request during authentication ends the session before the verifier answers', async () => {
    const t = pair();
    t.verifier.verify = () => new Promise(() => {}); // RADIUS never answers
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 200);
    expect(t.server.engine.phase).toBe('authenticate');
    const made = fakePapServer.made.at(-1)!;
    expect(made.requests).toBeGreaterThan(0);
    t.client.engine.close('admin', 'user hung up');
    await run(t.clock, 10_000);
    expect(t.server.downs).toEqual([{ cause: 'peer-terminate', message: 'the peer sent Terminate-Request' }]);
    expect(t.client.downs).toEqual([{ cause: 'admin', message: 'user hung up' }]);
    expect(made.stopped).toBe(1);
    expect(t.pool.taken.size).toBe(0);
    // The Terminate-Request carried the reason (RFC 1661 §5.5 Data).
    const tr = t.wire.find((w) => w.dir === 'c2s' && w.protocol === LCP && w.code === PppCode.TerminateRequest)!;
    expect(decodeControl(decodeFrame(tr.frame).payload).data.toString()).toBe('user hung up');
    expect(t.clock.pending()).toBe(0);
  });

  it('administrative close after Up releases the address once and tells both sides', async () => {
    const t = pair();
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    t.server.engine.close();
    await run(t.clock, 10_000);
    expect(t.server.downs).toEqual([{ cause: 'admin', message: 'administrative close' }]);
    expect(t.client.downs).toEqual([{ cause: 'peer-terminate', message: 'the peer sent Terminate-Request' }]);
    expect(t.pool.releases).toBe(1);
    expect(t.pool.taken.size).toBe(0);
    expect(t.clock.pending()).toBe(0);
  });

  it('lowerDown (the L2TP session went away) ends at once, without Terminate', async () => {
    const t = pair();
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    const sent = t.wire.length;
    t.server.engine.lowerDown();
    expect(t.server.downs).toEqual([{ cause: 'lower-down', message: 'lower layer down' }]);
    expect(t.wire.length).toBe(sent);
    expect(t.pool.taken.size).toBe(0);
  });

  it('answers an unknown protocol with Protocol-Reject once in the Network phase, never before', async () => {
    const t = pair();
    t.server.engine.start();
    // Before LCP is Opened: silently discarded (RFC 1661 §5.7, §3.4).
    t.server.engine.receive(encodeFrame(0x8281, Buffer.from('early')));
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.wire.filter((w) => w.code === PppCode.ProtocolReject)).toEqual([]);
    t.server.engine.receive(encodeFrame(0x8281, Buffer.from('hello')));
    t.server.engine.receive(encodeFrame(PppProtocol.CCP, Buffer.from([1, 1, 0, 4])));
    await run(t.clock, 100);
    const rejects = t.wire.filter((w) => w.dir === 's2c' && w.code === PppCode.ProtocolReject);
    expect(rejects).toHaveLength(2);
    const data = decodeControl(decodeFrame(rejects[0]!.frame).payload).data;
    expect(data.readUInt16BE(0)).toBe(0x8281);
    expect(data.subarray(2).toString()).toBe('hello');
    expect(t.server.engine.phase).toBe('opened');
    expect(t.client.engine.counters.discarded).toBe(0);
  });

  it('a peer that Protocol-Rejects IPv6CP still comes up on IPv4 (RXJ- ends only that NCP)', async () => {
    const t = pair({ server: { ipv6cp: true }, client: { ipv6cp: false } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.wire.some((w) => w.dir === 'c2s' && w.code === PppCode.ProtocolReject)).toBe(true);
    expect(t.server.ups).toHaveLength(1);
    expect(t.server.ups[0]!.address).toBe('192.0.2.10');
    expect(t.server.ups[0]!.interfaceId).toBeUndefined();
    expect(t.server.engine.ipv6cp!.layer).toBe('finished');
  });

  it('onLayer tells when each protocol opened (LCP, then IPCP and IPv6CP after authentication) and gave up', async () => {
    const seen: string[] = [];
    const t = pair({
      server: { ipv6cp: true },
      client: { ipv6cp: true, onLayer: (p, s) => seen.push(`${p} ${s} ${t.client.engine.phase}`), onPhase: (p) => seen.push(p) },
    });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.client.ups).toHaveLength(1);
    const ups = seen.filter((x) => / up /.test(x));
    // Reported before the engine acts: LCP up while still establishing, the NCPs up in the Network phase.
    expect(ups).toEqual(['LCP up establish', expect.stringMatching(/^IP(v6)?CP up network$/), expect.stringMatching(/^IP(v6)?CP up network$/)]);
    expect(new Set(ups.slice(1)).size).toBe(2);
    expect(seen.indexOf('authenticate')).toBeGreaterThan(seen.indexOf('LCP up establish'));
    expect(seen.indexOf('network')).toBeLessThan(seen.findIndex((x) => x.startsWith('IPCP up')));

    // An NCP the peer refuses: IPv6CP finished, IPCP up, and the engine behaves as without the hook.
    const refused: string[] = [];
    const r = pair({ server: { ipv6cp: false }, client: { ipv6cp: true, onLayer: (p, s) => refused.push(`${p} ${s}`) } });
    r.server.engine.start();
    r.client.engine.start();
    await run(r.clock, 2000);
    expect(refused).toContain('IPv6CP finished');
    expect(refused).toContain('IPCP up');
    expect(r.client.ups[0]!.address).toBe('192.0.2.10');
    expect(r.client.ups[0]!.interfaceId).toBeUndefined();
  });

  it('IPv6CP: both ends agree on distinct non-zero interface identifiers', async () => {
    const t = pair({ server: { ipv6cp: true }, client: { ipv6cp: true } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    const s = t.server.ups[0]!;
    const c = t.client.ups[0]!;
    expect(s.interfaceId).toMatch(/^[0-9a-f]{4}(:[0-9a-f]{4}){3}$/);
    expect(s.interfaceId).toBe(c.interfaceId);
    expect(s.gatewayInterfaceId).toBe(c.gatewayInterfaceId);
    expect(s.interfaceId).not.toBe(s.gatewayInterfaceId);
    expect(s.interfaceId).not.toBe('0000:0000:0000:0000');
  });

  it('honours the authorization: pool chosen by framedPool, framedIpAddress hint, RADIUS DNS, Framed-Interface-Id', async () => {
    const gold = new FakePool(['198.18.7.1', '198.18.7.2']);
    const verifier = new MapVerifier({
      alice: { password: 'secret', attributes: { framedPool: 'gold', framedIpAddress: '198.18.7.2', dnsServers: ['203.0.113.9'], framedInterfaceId: '0000:0000:0000:0042' } },
    });
    const t = pair({
      server: { verifier, ipv6cp: true, allocator: (a) => (a?.['framedPool'] === 'gold' ? gold : undefined) },
      client: { ipv6cp: true },
    });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.client.ups[0]).toMatchObject({ address: '198.18.7.2', dns: ['203.0.113.9'], interfaceId: '0000:0000:0000:0042' });
    expect(t.pool.taken.size).toBe(0);
    t.server.engine.close();
    await run(t.clock, 10_000);
    expect(gold.taken.size).toBe(0);
    expect(gold.releases).toBe(1);
  });

  it('IPv6 only: an exhausted pool does not stop an IPv6CP session', async () => {
    const t = pair({ server: { ipv6cp: true, allocator: { allocate: () => undefined, release: () => {} } }, client: { ipv6cp: true } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.server.ups[0]?.address).toBeUndefined();
    expect(t.server.ups[0]?.interfaceId).toBeDefined();
  });

  it('IPv4 only with an exhausted pool: the session ends (address-exhausted)', async () => {
    const t = pair({ server: { allocator: { allocate: () => undefined, release: () => {} } } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 10_000);
    expect(t.server.downs[0]?.cause).toBe('address-exhausted');
  });

  it('detects a looped-back link by its own Magic-Number (RFC 1661 §6.4)', async () => {
    const t = pair();
    let self: PppEngine;
    const downs: string[] = [];
    self = new PppEngine({
      role: 'server',
      clock: t.clock,
      auth: [],
      send: (f) => t.clock.setTimeout(() => self.receive(f), 5),
      random: Math.random,
      onDown: (r) => downs.push(r.cause),
    });
    self.start();
    await run(t.clock, 10_000);
    expect(downs).toEqual(['loopback']);
  });

  it('keepalive: echoes are answered without waking the automata; silence ends the session', async () => {
    let mute = false;
    const t = pair({ server: { echoIntervalMs: 10_000, echoFailures: 3 }, drop: (r) => mute && r.dir === 'c2s' });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    await run(t.clock, 60_000, 500);
    expect(t.server.engine.counters.echoRequestsSent).toBeGreaterThanOrEqual(5);
    expect(t.server.engine.lcp.hibernating).toBe(true);
    expect(t.server.downs).toEqual([]);
    const replies = t.wire.filter((w) => w.dir === 'c2s' && w.code === PppCode.EchoReply);
    expect(decodeControl(decodeFrame(replies[0]!.frame).payload).data.readUInt32BE(0)).toBe(t.client.ups[0]!.magic);
    // Echo periods are jittered (±10 %), not all equal.
    const at = t.wire.filter((w) => w.dir === 's2c' && w.code === PppCode.EchoRequest).map((w) => w.at);
    const gaps = at.slice(1).map((a, i) => a - at[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(9000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(11_000);
    expect(new Set(gaps).size).toBeGreaterThan(1);
    mute = true;
    await run(t.clock, 60_000, 500);
    expect(t.server.downs[0]?.cause).toBe('echo-timeout');
  });

  it('keepalive offload: handed over with our Magic-Number, no echo sent by the engine, stopped on link down, dead closes it', async () => {
    const starts: { magic: number; intervalMs: number; failures: number; firstMs?: number }[] = [];
    let stops = 0;
    let dead: (() => void) | undefined;
    const echoOffload = {
      start: (o: { magic: number; intervalMs: number; failures: number; firstMs?: number; dead(): void }) => {
        const { dead: d, ...rest } = o;
        starts.push(rest);
        dead = d;
        return { stop: () => void stops++ };
      },
    };
    const t = pair({ server: { echoIntervalMs: 10_000, echoFailures: 4, echoOffload } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    await run(t.clock, 60_000, 500);
    expect(t.server.ups).toHaveLength(1);
    expect(starts).toEqual([{ magic: t.server.ups[0]!.magic >>> 0, intervalMs: 10_000, failures: 4 }]);
    expect(t.server.engine.counters.echoRequestsSent).toBe(0);
    expect(t.wire.filter((w) => w.dir === 's2c' && w.code === PppCode.EchoRequest)).toEqual([]);
    // The offload says the peer went silent: the engine closes as its own keepalive would have, and stops it once.
    dead!();
    await run(t.clock, 10_000, 500);
    expect(t.server.downs[0]?.cause).toBe('echo-timeout');
    expect(stops).toBe(0); // a dead offload is already gone: nothing to stop
  });

  it('keepalive offload is stopped when the link goes down for another reason', async () => {
    let stops = 0;
    const t = pair({ server: { echoIntervalMs: 10_000, echoOffload: { start: () => ({ stop: () => void stops++ }) } } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.server.ups).toHaveLength(1);
    t.server.engine.close('admin', 'test');
    await run(t.clock, 10_000, 500);
    expect(t.server.downs[0]?.cause).toBe('admin');
    expect(stops).toBe(1);
  });

  it('keepalive offload refused (start returns undefined): the engine keeps its own', async () => {
    const t = pair({ server: { echoIntervalMs: 10_000, echoFailures: 3, echoOffload: { start: () => undefined } } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    await run(t.clock, 40_000, 500);
    expect(t.server.engine.counters.echoRequestsSent).toBeGreaterThanOrEqual(3);
  });

  it('restores an Opened session from getState() (JSON) and keeps serving it', async () => {
    const t = pair();
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    const state = JSON.parse(JSON.stringify(t.server.engine.getState()));
    expect(state).toMatchObject({ phase: 'opened', address: '192.0.2.10', user: 'alice', authProtocol: 'pap', lcp: { state: 'Opened' }, ipcp: { state: 'Opened' } });
    const out: Buffer[] = [];
    const downs: string[] = [];
    const restored = PppEngine.restore({ role: 'server', clock: t.clock, send: (f) => out.push(f), allocator: t.pool, onDown: (r) => downs.push(r.cause) }, state);
    expect(restored.phase).toBe('opened');
    const magic = t.server.ups[0]!.magic;
    restored.receive(encodeControlFrame(LCP, { code: PppCode.EchoRequest, identifier: 77, data: Buffer.from([1, 2, 3, 4]) }));
    const reply = decodeControl(decodeFrame(out[0]!).payload);
    expect(reply).toMatchObject({ code: PppCode.EchoReply, identifier: 77 });
    expect(reply.data.readUInt32BE(0)).toBe(magic);
    restored.receive(encodeControlFrame(LCP, { code: PppCode.TerminateRequest, identifier: 9, data: Buffer.alloc(0) }));
    expect(decodeControl(decodeFrame(out[1]!).payload)).toMatchObject({ code: PppCode.TerminateAck, identifier: 9 });
    await run(t.clock, 5000);
    expect(downs).toEqual(['peer-terminate']);
    // The restored engine owns the address now and gave it back (the original's node is gone).
    expect(t.pool.releases).toBe(1);
    expect(t.pool.taken.size).toBe(0);
  });

  it('Configure-Requests carry what the options tables say: server asks PAP and Magic, client Magic', async () => {
    const t = pair();
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 100);
    const first = (dir: string) => decodeOptions(decodeControl(decodeFrame(t.wire.find((w) => w.dir === dir && w.code === 1)!.frame).payload).data).map((o) => o.type);
    expect(first('s2c')).toEqual([3, 5]);
    expect(first('c2s')).toEqual([5]);
  });
});

describe('PppEngine robustness', () => {
  it('a throwing callback does not break the link', async () => {
    const t = pair({ server: { onUp: () => { throw new Error('boom'); } } });
    t.server.engine.start();
    t.client.engine.start();
    await run(t.clock, 2000);
    expect(t.client.ups).toHaveLength(1);
    expect(t.server.engine.phase).toBe('opened');
    t.server.engine.close();
    await run(t.clock, 10_000);
    expect(t.server.downs.map((d) => d.cause)).toEqual(['admin']);
  });
});
