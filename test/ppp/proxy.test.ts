/**
 * Proxy LCP and proxy authentication (RFC 2661 §4.4.5): a subscriber negotiates LCP and sends its
 * PAP request to a LAC (another engine in server role that never answers); the LNS then gets the
 * LAC's view (ICCN AVPs 26–33) and either continues from it or renegotiates.
 */
import { describe, expect, it } from 'vitest';
import { PppEngine } from '../../src/ppp/engine.js';
import { decodeControl, decodeFrame, encodeOptions, PppCode, PppProtocol, u32Option, type PppOption } from '../../src/ppp/frame.js';
import { authOption, LcpOption, LcpPolicy } from '../../src/ppp/lcp.js';
import { judgeProxyLcp } from '../../src/ppp/proxy.js';
import { ProxyAuthenType, type PppDownReason, type PppEngineConfig, type PppUpInfo, type ProxyLcp } from '../../src/ppp/types.js';
import { VirtualClock } from '../../src/transport/clock.js';
import { fakePapClient, fakePapServer, MapVerifier } from './support/fake-pap.js';
import { FakePool, run, seeded } from './support/link.js';

function scene(lns: Partial<PppEngineConfig> = {}) {
  const clock = new VirtualClock(0);
  const wire: { from: 'client' | 'lac' | 'lns'; frame: Buffer }[] = [];
  let clientPeer: 'lac' | 'lns' = 'lac';
  const ups: { client: PppUpInfo[]; lns: PppUpInfo[] } = { client: [], lns: [] };
  const downs: { client: PppDownReason[]; lns: PppDownReason[] } = { client: [], lns: [] };
  const pool = new FakePool(['198.18.0.7']);
  const verifier = new MapVerifier({ alice: { password: 'secret' } });
  const deliver = (to: () => PppEngine, frame: Buffer) => clock.setTimeout(() => to().receive(frame), 10);
  const engines = {} as { client: PppEngine; lac: PppEngine; lns: PppEngine };
  engines.client = new PppEngine({
    role: 'client', clock, random: seeded(3), auth: ['pap'], authClient: fakePapClient, credentials: { user: 'alice', password: 'secret' },
    send: (f) => (wire.push({ from: 'client', frame: f }), deliver(() => engines[clientPeer], f)),
    onUp: (i) => ups.client.push(i), onDown: (r) => downs.client.push(r),
  });
  engines.lac = new PppEngine({
    role: 'server', clock, random: seeded(4), auth: ['pap'], authServer: fakePapServer.factory, verifier: { verify: () => new Promise(() => {}) },
    send: (f) => (wire.push({ from: 'lac', frame: f }), deliver(() => engines.client, f)),
  });
  engines.lns = new PppEngine({
    role: 'server', clock, random: seeded(5), auth: ['pap'], authServer: fakePapServer.factory, verifier, allocator: pool, proxy: { lcp: true, auth: true },
    send: (f) => (wire.push({ from: 'lns', frame: f }), deliver(() => engines.client, f)),
    onUp: (i) => ups.lns.push(i), onDown: (r) => downs.lns.push(r),
    ...lns,
  });
  /** Run the subscriber against the LAC until it sent its PAP request, then collect what the ICCN would carry. */
  const dialLac = async (): Promise<ProxyLcp> => {
    engines.client.start();
    engines.lac.start();
    await run(clock, 500);
    const crs = (from: string) => wire.filter((w) => w.from === from && decodeFrame(w.frame).protocol === PppProtocol.LCP).map((w) => decodeControl(decodeFrame(w.frame).payload)).filter((p) => p.code === PppCode.ConfigureRequest);
    const pap = decodeFrame(wire.find((w) => w.from === 'client' && decodeFrame(w.frame).protocol === PppProtocol.PAP)!.frame).payload;
    const ulen = pap[4]!;
    clientPeer = 'lns';
    engines.lac.lowerDown();
    return {
      initialReceivedConfReq: crs('client')[0]!.data,
      lastReceivedConfReq: crs('client').at(-1)!.data,
      lastSentConfReq: crs('lac').at(-1)!.data,
      proxyAuth: { type: ProxyAuthenType.Pap, name: pap.subarray(5, 5 + ulen).toString(), response: pap.subarray(6 + ulen, 6 + ulen + pap[5 + ulen]!), id: pap[1]! },
    };
  };
  const lnsLcpRequests = () => wire.filter((w) => w.from === 'lns' && decodeFrame(w.frame).protocol === PppProtocol.LCP && decodeFrame(w.frame).payload[0] === PppCode.ConfigureRequest);
  return { clock, wire, engines, ups, downs, pool, verifier, dialLac, lnsLcpRequests };
}

describe('proxy LCP and proxy authentication (RFC 2661 §4.4.5)', () => {
  it('accepted: no LCP renegotiation, the LNS verifies the proxied PAP and answers with its Identifier', async () => {
    const s = scene();
    const proxy = await s.dialLac();
    expect(s.engines.client.phase).toBe('authenticate');
    const outcome = s.engines.lns.startWithProxy(proxy);
    expect(outcome).toEqual({ accepted: true, proxyAuth: true });
    expect(s.engines.lns.lcp.state).toBe('Opened');
    // LCP taken over as Opened is plain data too: l2tpd posts it to the main thread as the session's
    // failover record (a snapshot holding the machine's functions failed to clone and killed the shard).
    expect(() => structuredClone(s.engines.lns.getState())).not.toThrow();
    await run(s.clock, 2000);
    expect(s.lnsLcpRequests()).toEqual([]);
    expect(s.verifier.seen).toEqual([{ protocol: 'pap', user: 'alice', password: 'secret' }]);
    const ack = s.wire.find((w) => w.from === 'lns' && decodeFrame(w.frame).protocol === PppProtocol.PAP)!;
    expect(decodeFrame(ack.frame).payload[0]).toBe(2); // Authenticate-Ack
    expect(decodeFrame(ack.frame).payload[1]).toBe(proxy.proxyAuth!.id);
    expect(s.ups.lns[0]).toMatchObject({ user: 'alice', address: '198.18.0.7', authProtocol: 'pap' });
    expect(s.ups.client[0]).toMatchObject({ address: '198.18.0.7' });
    // The LNS speaks with the Magic-Numbers the LAC negotiated.
    expect(s.ups.lns[0]!.peerMagic).toBe(s.ups.client[0]!.magic);
    expect(s.ups.client[0]!.peerMagic).toBe(s.ups.lns[0]!.magic);
  });

  it('accepted LCP, proxy authentication not allowed: the LNS runs its own PAP round', async () => {
    const s = scene({ proxy: { lcp: true, auth: false } });
    const proxy = await s.dialLac();
    expect(s.engines.lns.startWithProxy(proxy)).toEqual({ accepted: true, proxyAuth: false });
    await run(s.clock, 8000);
    expect(s.lnsLcpRequests()).toEqual([]);
    expect(s.ups.lns[0]).toMatchObject({ user: 'alice', address: '198.18.0.7' });
  });

  it('wrong proxied password: the subscriber gets an Authenticate-Nak and the LNS terminates', async () => {
    const s = scene();
    const proxy = await s.dialLac();
    s.engines.lns.startWithProxy({ ...proxy, proxyAuth: { ...proxy.proxyAuth!, response: Buffer.from('nope') } });
    await run(s.clock, 10_000);
    expect(s.downs.lns.map((d) => d.cause)).toEqual(['auth-failed']);
    expect(s.pool.taken.size).toBe(0);
  });

  it('refused (an option we would Reject): LCP is renegotiated from scratch and the session still comes up', async () => {
    const s = scene();
    const proxy = await s.dialLac();
    const tampered = Buffer.concat([proxy.lastReceivedConfReq!, encodeOptions([{ type: 13, data: Buffer.from([6]) }])]);
    const outcome = s.engines.lns.startWithProxy({ ...proxy, lastReceivedConfReq: tampered });
    expect(outcome.accepted).toBe(false);
    await run(s.clock, 10_000);
    expect(s.lnsLcpRequests().length).toBeGreaterThan(0);
    expect(s.ups.lns[0]).toMatchObject({ user: 'alice', address: '198.18.0.7' });
    expect(s.ups.client).toHaveLength(1);
  });

  it('refused when the profile does not allow proxy LCP', async () => {
    const s = scene({ proxy: {} });
    const proxy = await s.dialLac();
    expect(s.engines.lns.startWithProxy(proxy)).toEqual({ accepted: false, reason: 'proxy LCP not allowed' });
    await run(s.clock, 10_000);
    expect(s.ups.lns).toHaveLength(1);
  });
});

describe('judgeProxyLcp', () => {
  const policy = () => new LcpPolicy({ role: 'server', mru: 1500, auth: ['pap'], random: seeded(1), maxLoopback: 5 });
  const m = (v: number) => u32Option(LcpOption.MagicNumber, v);
  const ok = (ours: PppOption[], peers: PppOption[], auth = ['pap'] as const) =>
    judgeProxyLcp({ lastSentConfReq: encodeOptions(ours), lastReceivedConfReq: encodeOptions(peers) }, policy(), auth);

  it('accepts what we would have agreed to', () => {
    expect(ok([authOption('pap'), m(1)], [m(2)]).ok).toBe(true);
  });
  it.each<[string, PppOption[], PppOption[]]>([
    ['an authentication protocol we do not offer', [authOption('chap'), m(1)], [m(2)]],
    ['no authentication while we require it', [m(1)], [m(2)]],
    ['equal Magic-Numbers', [authOption('pap'), m(7)], [m(7)]],
    ['an unknown option on our side', [authOption('pap'), { type: 13, data: Buffer.from([6]) }], [m(2)]],
    ["a subscriber option we would Nak (MRU 64)", [authOption('pap')], [{ type: 1, data: Buffer.from([0, 64]) }]],
  ])('refuses %s', (_n, ours, peers) => {
    expect(ok(ours, peers).ok).toBe(false);
  });
  it('refuses missing or malformed CONFREQs', () => {
    expect(judgeProxyLcp({ lastSentConfReq: Buffer.alloc(0) }, policy(), ['pap']).ok).toBe(false);
    expect(judgeProxyLcp({ lastSentConfReq: Buffer.from([3, 9, 0]), lastReceivedConfReq: Buffer.alloc(0) }, policy(), ['pap']).ok).toBe(false);
  });
});
