/**
 * The option tables alone: IPCP (RFC 1332, RFC 1877), IPv6CP (RFC 5072 §4.1), LCP client side.
 */
import { describe, expect, it } from 'vitest';
import type { AuthProtocolName } from '../../src/ppp/auth/types.js';
import { ipv4Option, PppCodecError } from '../../src/ppp/frame.js';
import { IpcpOption, IpcpPolicy } from '../../src/ppp/ipcp.js';
import { Ipv6cpOption, Ipv6cpPolicy, randomInterfaceId } from '../../src/ppp/ipv6cp.js';
import { authOption, LcpOption, LcpPolicy } from '../../src/ppp/lcp.js';
import { seeded } from './support/link.js';

const ip = (t: number, a: string) => ipv4Option(t, a);

describe('IPCP server policy', () => {
  const server = (dns: string[] = ['198.51.100.53']) => new IpcpPolicy({ role: 'server', assigned: () => '192.0.2.10', dns });

  it("Naks the client's 0.0.0.0 and a wrong address with the assigned one, Acks the assigned one", () => {
    expect(server().judge([ip(IpcpOption.IpAddress, '0.0.0.0')]).nak.map((n) => n.suggest)).toEqual([ip(IpcpOption.IpAddress, '192.0.2.10')]);
    expect(server().judge([ip(IpcpOption.IpAddress, '10.1.1.1')]).nak.map((n) => n.suggest)).toEqual([ip(IpcpOption.IpAddress, '192.0.2.10')]);
    expect(server().judge([ip(IpcpOption.IpAddress, '192.0.2.10')])).toEqual({ reject: [], nak: [] });
  });

  it('adds IP-Address in a Nak when the client did not ask (RFC 1332 §3.3)', () => {
    const j = server().judge([]);
    expect(j.nak).toEqual([{ suggest: ip(IpcpOption.IpAddress, '192.0.2.10') }]);
  });

  it('DNS per RFC 1877: Nak to the configured server, Reject when none; NBNS and VJ Rejected', () => {
    const opts = [ip(IpcpOption.IpAddress, '192.0.2.10'), ip(IpcpOption.PrimaryDns, '0.0.0.0'), ip(IpcpOption.SecondaryDns, '0.0.0.0'), ip(IpcpOption.PrimaryNbns, '0.0.0.0'), { type: IpcpOption.IpCompressionProtocol, data: Buffer.from([0, 0x2d, 15, 1]) }];
    const j = server(['198.51.100.53']).judge(opts);
    expect(j.nak.map((n) => n.suggest)).toEqual([ip(IpcpOption.PrimaryDns, '198.51.100.53')]);
    expect(j.reject).toEqual([opts[2], opts[3], opts[4]]);
  });
});

describe('IPCP client policy', () => {
  it('asks for 0.0.0.0 and DNS, takes the Naked values, and gives up if the address is Rejected', () => {
    const c = new IpcpPolicy({ role: 'client', requestDns: true });
    expect(c.request()).toEqual([ip(3, '0.0.0.0'), ip(129, '0.0.0.0'), ip(131, '0.0.0.0')]);
    c.nakked([ip(3, '192.0.2.10'), ip(129, '198.51.100.53')]);
    c.rejected([ip(131, '0.0.0.0')]);
    expect(c.request()).toEqual([ip(3, '192.0.2.10'), ip(129, '198.51.100.53')]);
    c.agreed(c.request());
    expect(c.negotiated).toMatchObject({ address: '192.0.2.10', dns: ['198.51.100.53'] });
    expect(c.rejected([ip(3, '192.0.2.10')])).toMatch(/refuses/);
  });
});

describe('IPv6CP policy (RFC 5072 §4.1)', () => {
  const ours = Buffer.from('0211223344556677', 'hex');
  const zero = Buffer.alloc(8);
  const opt = (b: Buffer) => ({ type: Ipv6cpOption.InterfaceIdentifier, data: b });

  it('Naks a zero identifier with a non-zero suggestion, "u" bit clear, different from ours', () => {
    const p = new Ipv6cpPolicy({ random: seeded(9), interfaceId: ours });
    const j = p.judge([opt(zero)]);
    expect(j.nak).toHaveLength(1);
    const s = j.nak[0]!.suggest.data;
    expect(s.equals(zero)).toBe(false);
    expect(s.equals(ours)).toBe(false);
    expect(s[0]! & 0x02).toBe(0);
    // Consistently reproducible: the same suggestion next time.
    expect(p.judge([opt(zero)]).nak[0]!.suggest.data).toEqual(s);
  });

  it('Naks a colliding identifier, Acks a distinct one, Rejects when both are zero', () => {
    const p = new Ipv6cpPolicy({ random: seeded(9), interfaceId: ours });
    expect(p.judge([opt(ours)]).nak).toHaveLength(1);
    expect(p.judge([opt(Buffer.from('1122334455667788', 'hex'))])).toEqual({ reject: [], nak: [] });
    const z = new Ipv6cpPolicy({ random: seeded(9), interfaceId: zero });
    expect(z.judge([opt(zero)]).reject).toHaveLength(1);
  });

  it('takes a suggestion from the peer, but not the one we suggested last; stops asking when Rejected', () => {
    const p = new Ipv6cpPolicy({ random: seeded(9), interfaceId: ours });
    const mine = p.judge([opt(zero)]).nak[0]!.suggest.data;
    const theirs = Buffer.from('0a0b0c0d0e0f0001', 'hex');
    p.nakked([opt(theirs)]);
    expect(p.request()).toEqual([opt(theirs)]);
    p.nakked([opt(mine)]);
    expect(p.request()[0]!.data.equals(mine)).toBe(false);
    p.rejected([opt(theirs)]);
    expect(p.request()).toEqual([]);
  });

  it('never draws a zero identifier', () => {
    let n = 0;
    const zeros = () => (n++ < 8 ? 0 : 0.5);
    expect(randomInterfaceId(zeros).equals(zero)).toBe(false);
  });
});

describe('LCP client policy', () => {
  const client = (auth: readonly AuthProtocolName[] = ['chap', 'pap']) => new LcpPolicy({ role: 'client', mru: 1500, auth, random: seeded(2), maxLoopback: 5 });

  it('Acks an authentication protocol it can do, Naks with its preferred one otherwise', () => {
    expect(client().judge([authOption('pap')])).toEqual({ reject: [], nak: [] });
    const j = client().judge([authOption('mschapv2')]);
    expect(j.nak.map((n) => n.suggest)).toEqual([authOption('chap')]);
    expect(client([]).judge([authOption('pap')]).reject).toEqual([authOption('pap')]);
  });

  it('records what the server asked of it', () => {
    const c = client();
    c.peerAgreed([authOption('pap'), { type: LcpOption.MagicNumber, data: Buffer.from([0, 0, 0, 9]) }]);
    expect(c.negotiated).toMatchObject({ auth: 'pap', peerMagic: 9 });
  });

  it('configured addresses are checked with the typed error', () => {
    expect(() => ipv4Option(3, '300.1.1.1')).toThrow(PppCodecError);
  });
});
