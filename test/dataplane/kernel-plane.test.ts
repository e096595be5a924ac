/**
 * The kernel data plane's pure layers on any host: generic netlink attribute encoding (golden bytes
 * from struct nlattr), reply decoding, the bookkeeping that guarantees nothing of ours stays in the
 * kernel, and the worker ⇄ main thread call path. The real kernel is exercised in the VM (test/vm).
 */
import { describe, expect, it } from 'vitest';
import { decodeSession, decodeTunnel, encodeAttrs, L2tpCmd, L2tpGenl, parseAttrs, PwType, type GenlTransport } from '../../src/dataplane/kernel/l2tp-genl.js';
import { KernelDataPlane, vlanIfname, vlanLinkInfo, type LinkConfigurator } from '../../src/dataplane/kernel/kernel.js';
import { executeDataPlaneCall, RemoteDataPlane, type DataPlaneCall } from '../../src/dataplane/remote.js';
import { DataPlaneError, type DataPlane, type SessionSpec } from '../../src/dataplane/types.js';
import { NullDataPlane } from '../../src/dataplane/null.js';

const hex = (b: Buffer) => b.toString('hex');

describe('l2tp generic netlink attributes', () => {
  it('encodes each kind as struct nlattr: length, type, value, padding to 4', () => {
    expect(hex(encodeAttrs([['CONN_ID', 0x01020304]]))).toBe('0800' + '0900' + '04030201');
    expect(hex(encodeAttrs([['PROTO_VERSION', 3]]))).toBe('0500' + '0700' + '03000000');
    expect(hex(encodeAttrs([['ENCAP_TYPE', 1]]))).toBe('0600' + '0200' + '01000000');
    expect(hex(encodeAttrs([['IFNAME', 'ab']]))).toBe('0700' + '0800' + '616200' + '00');
    expect(hex(encodeAttrs([['UDP_CSUM', true]]))).toBe('0400' + '0d00');
    expect(hex(encodeAttrs([['FD', -1]]))).toBe('0800' + '1700' + 'ffffffff');
    expect(hex(encodeAttrs([['IP_SADDR', '198.18.0.1']]))).toBe('0800' + '1800' + 'c6120001');
    expect(hex(encodeAttrs([['IP6_DADDR', '2001:db8::1']]))).toBe('1400' + '2000' + '20010db8000000000000000000000001');
    expect(hex(encodeAttrs([['COOKIE', Buffer.from('aabbccddeeff0011', 'hex')]]))).toBe('0c00' + '0f00' + 'aabbccddeeff0011');
  });

  it('refuses a malformed address with a DataPlaneError instead of sending garbage', () => {
    expect(() => encodeAttrs([['IP_SADDR', 'not-an-ip']])).toThrow(DataPlaneError);
    expect(() => encodeAttrs([['IP6_SADDR', '198.18.0.1']])).toThrow(DataPlaneError);
  });

  it('parses what it encodes, and stops at a truncated attribute without throwing', () => {
    const body = encodeAttrs([
      ['CONN_ID', 7],
      ['IFNAME', 'l2tpeth0'],
      ['PW_TYPE', PwType.PPP],
    ]);
    const a = parseAttrs(body);
    expect(a.get(9)?.readUInt32LE(0)).toBe(7);
    expect(a.get(1)?.readUInt16LE(0)).toBe(7);
    expect(parseAttrs(body.subarray(0, body.length - 3)).size).toBe(2);
    expect(parseAttrs(Buffer.from([0xff, 0xff, 0x01])).size).toBe(0);
  });

  it('decodes tunnel and session replies with their nested statistics', () => {
    const u64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(n));
      return b;
    };
    const nested = (pairs: [number, number][]) =>
      Buffer.concat(
        pairs.map(([t, v]) => {
          const h = Buffer.alloc(4);
          h.writeUInt16LE(12, 0);
          h.writeUInt16LE(t, 2);
          return Buffer.concat([h, u64(v)]);
        }),
      );
    const stats = nested([
      [1, 10],
      [2, 1000],
      [4, 20],
      [5, 2000],
      [6, 3],
      [8, 4],
    ]);
    const tunnel = decodeTunnel(encodeAttrs([['CONN_ID', 5], ['PEER_CONN_ID', 6], ['PROTO_VERSION', 2], ['ENCAP_TYPE', 0], ['STATS', stats]]));
    expect(tunnel).toEqual({
      tunnelId: 5,
      peerTunnelId: 6,
      version: 2,
      encapsulation: 'udp',
      counters: { txPackets: 10, txBytes: 1000, txErrors: 0, rxPackets: 20, rxBytes: 2000, rxSeqDiscards: 3, rxErrors: 4 },
    });
    const session = decodeSession(encodeAttrs([['CONN_ID', 5], ['SESSION_ID', 9], ['PEER_SESSION_ID', 10], ['PW_TYPE', 5], ['IFNAME', 'pw0'], ['STATS', stats]]));
    expect(session).toMatchObject({ tunnelId: 5, sessionId: 9, peerSessionId: 10, pwType: 5, ifname: 'pw0' });
    expect(session.counters.rxBytes).toBe(2000);
  });
});

/** A kernel double: records requests, keeps objects, answers like l2tp_netlink (EEXIST, ENOENT...). */
class FakeKernel implements GenlTransport {
  readonly calls: { cmd: number; attrs: Map<number, Buffer> }[] = [];
  readonly tunnels = new Set<number>();
  readonly sessions = new Set<string>();
  /** l2tp_eth names its interface (IFNAME of the create) and reports the name on SESSION_GET. */
  readonly ifnames = new Map<string, string>();
  fail: string | undefined;
  private listener: ((cmd: number, body: Buffer) => void) | undefined;

  onNotification(fn: (cmd: number, body: Buffer) => void): void {
    this.listener = fn;
  }

  /** What l2tp_netlink multicasts on a delete (ours, ip(8)'s, or another namespace's). */
  announce(cmd: number, tid: number, sid?: number): void {
    this.listener?.(cmd, encodeAttrs([['CONN_ID', tid], ...(sid !== undefined ? [['SESSION_ID', sid] as ['SESSION_ID', number]] : [])]));
  }

  async request(cmd: number, attrs: Buffer): Promise<Buffer[]> {
    const a = parseAttrs(attrs);
    this.calls.push({ cmd, attrs: a });
    if (this.fail) throw new Error(`Request rejected: ${this.fail}`);
    const tid = a.get(9)?.readUInt32LE(0) ?? 0;
    const sid = a.get(11)?.readUInt32LE(0) ?? 0;
    switch (cmd) {
      case L2tpCmd.TUNNEL_CREATE:
        if (this.tunnels.has(tid)) throw new Error('Request rejected: EEXIST');
        this.tunnels.add(tid);
        return [];
      case L2tpCmd.TUNNEL_DELETE:
        if (!this.tunnels.delete(tid)) throw new Error('Request rejected: ENODEV');
        this.announce(cmd, tid);
        for (const k of [...this.sessions]) if (k.startsWith(`${tid}/`)) this.sessions.delete(k);
        return [];
      case L2tpCmd.SESSION_CREATE:
        if (!this.tunnels.has(tid)) throw new Error('Request rejected: ENODEV');
        this.sessions.add(`${tid}/${sid}`);
        if (a.has(8)) this.ifnames.set(`${tid}/${sid}`, a.get(8)!.toString().replace(/\0.*$/s, ''));
        return [];
      case L2tpCmd.SESSION_DELETE:
        if (!this.sessions.delete(`${tid}/${sid}`)) throw new Error('Request rejected: ENODEV');
        this.announce(cmd, tid, sid);
        return [];
      case L2tpCmd.TUNNEL_GET:
        if (!this.tunnels.has(tid)) throw new Error('Request rejected: ENODEV');
        return [encodeAttrs([['CONN_ID', tid]])];
      case L2tpCmd.SESSION_GET:
        if (!this.sessions.has(`${tid}/${sid}`)) throw new Error('Request rejected: ENODEV');
        return [encodeAttrs([['CONN_ID', tid], ['SESSION_ID', sid], ...(this.ifnames.has(`${tid}/${sid}`) ? [['IFNAME', this.ifnames.get(`${tid}/${sid}`)!] as ['IFNAME', string]] : [])])];
      default:
        return [];
    }
  }
  close(): void {}
}

const noLinks: LinkConfigurator = {
  async configurePpp(spec) {
    return { ifname: `ppp${spec.unit}`, ifindex: 100 + spec.unit };
  },
  async configureEthernet() {},
  close() {},
};

const tunnelSpec = (id: number) => ({
  localTunnelId: id,
  peerTunnelId: id + 1000,
  version: 2 as const,
  encapsulation: 'udp' as const,
  local: { address: '198.18.0.1', port: 1701 },
  peer: { address: '198.18.0.2', port: 1701 },
  fd: 42,
});
const sessionSpec = (tid: number, sid: number): SessionSpec => ({ localTunnelId: tid, localSessionId: sid, peerSessionId: sid + 1, pseudowire: 'ppp', lnsMode: true });

describe('KernelDataPlane', () => {
  it('hands the tunnel socket to the kernel and creates PPP sessions in LNS mode', async () => {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks);
    await dp.createTunnel(tunnelSpec(1));
    await dp.createSession(sessionSpec(1, 5));
    const [create, session] = k.calls;
    expect(create!.cmd).toBe(L2tpCmd.TUNNEL_CREATE);
    expect(create!.attrs.get(23)!.readInt32LE(0)).toBe(42); // L2TP_ATTR_FD
    expect(create!.attrs.get(7)![0]).toBe(2);
    expect(create!.attrs.has(13)).toBe(false); // no UDP_CSUM flag: checksums off unless asked
    expect(session!.attrs.get(1)!.readUInt16LE(0)).toBe(PwType.PPP);
    expect(session!.attrs.get(20)![0]).toBe(1); // LNS_MODE
    expect(dp.objects).toEqual({ tunnels: 1, sessions: 1 });
  });

  it('gives the kernel our cookie to check and the peer cookie to send (RFC 3931 §5.4.4 Assigned Cookie: what its sender expects)', async () => {
    const k = new FakeKernel();
    const configured: unknown[] = [];
    const dp = new KernelDataPlane(new L2tpGenl(k), { ...noLinks, configureEthernet: async (spec) => void configured.push(spec) });
    await dp.createTunnel({ ...tunnelSpec(1), version: 3 });
    const ours = Buffer.from('0102030405060708', 'hex');
    const peers = Buffer.from('0a0b0c0d', 'hex');
    await dp.createSession({ ...sessionSpec(1, 5), pseudowire: 'ethernet', cookie: ours, peerCookie: peers, interfaceName: 'pw0', mtu: 1400, bridge: 'br0' });
    const create = k.calls.find((c) => c.cmd === L2tpCmd.SESSION_CREATE)!;
    // l2tp_core puts L2TP_ATTR_COOKIE in every data message it sends and drops received ones without L2TP_ATTR_PEER_COOKIE.
    expect(hex(create.attrs.get(15)!)).toBe('0a0b0c0d');
    expect(hex(create.attrs.get(16)!)).toBe('0102030405060708');
    // The interface the kernel named goes up, into its bridge.
    expect(configured).toEqual([{ ifname: 'pw0', mtu: 1400, bridge: 'br0' }]);
  });

  it('makes an Ethernet-VLAN pseudowire as an l2tpeth (kernel type ETH: l2tp_eth has no ETH_VLAN) with a VLAN interface on it', async () => {
    const k = new FakeKernel();
    const configured: unknown[] = [];
    const dp = new KernelDataPlane(new L2tpGenl(k), { ...noLinks, configureEthernet: async (spec) => void configured.push(spec) });
    await dp.createTunnel({ ...tunnelSpec(1), version: 3 });
    await dp.createSession({ ...sessionSpec(1, 5), pseudowire: 'ethernet_vlan', interfaceName: 'pw0', vlanId: 100, bridge: 'br0' });
    const create = k.calls.find((c) => c.cmd === L2tpCmd.SESSION_CREATE)!;
    expect(create.attrs.get(1)!.readUInt16LE(0)).toBe(PwType.ETH);
    expect(configured).toEqual([{ ifname: 'pw0', bridge: 'br0', vlanId: 100 }]);
    await expect(dp.createSession({ ...sessionSpec(1, 6), pseudowire: 'ethernet_vlan', interfaceName: 'pw1' })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('encodes the VLAN link (IFLA_INFO_KIND "vlan", IFLA_INFO_DATA { IFLA_VLAN_ID }) and names it within IFNAMSIZ', () => {
    expect(hex(vlanLinkInfo(100))).toBe('0900' + '0100' + '766c616e00' + '000000' + '0c00' + '0200' + '0600' + '0100' + '6400' + '0000');
    expect(vlanIfname('l2tpeth0', 100)).toBe('l2tpeth0.100');
    expect(vlanIfname('customer-link-a', 4094)).toBe('customer-l.4094');
    expect(vlanIfname('customer-link-a', 4094).length).toBe(15);
  });

  it('refuses a tunnel without a socket and a session without its tunnel, saying why', async () => {
    const dp = new KernelDataPlane(new L2tpGenl(new FakeKernel()), noLinks);
    const { fd: _fd, ...noFd } = tunnelSpec(1);
    await expect(dp.createTunnel(noFd)).rejects.toMatchObject({ name: 'DataPlaneError', code: 'EBADF' });
    await expect(dp.createSession(sessionSpec(9, 1))).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('turns kernel refusals into DataPlaneErrors with the errno name', async () => {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks);
    await dp.createTunnel(tunnelSpec(1));
    const e = await dp.createTunnel(tunnelSpec(1)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataPlaneError);
    expect(e).toMatchObject({ code: 'EEXIST', operation: 'tunnel create' });
    expect(String((e as Error).message)).toContain('EEXIST');
  });

  it('treats an object the kernel already removed (socket closed) as deleted', async () => {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks);
    await dp.createTunnel(tunnelSpec(1));
    await dp.createSession(sessionSpec(1, 5));
    k.sessions.clear(); // the PPPoL2TP socket's close deleted it
    await expect(dp.deleteSession(1, 5)).resolves.toBeUndefined();
    k.tunnels.clear(); // the tunnel socket's close deleted it
    await expect(dp.deleteTunnel(1)).resolves.toBeUndefined();
    expect(dp.objects).toEqual({ tunnels: 0, sessions: 0 });
  });

  it('leaves nothing in the kernel after close, whatever the workers did not delete', async () => {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks);
    for (let t = 1; t <= 3; t++) {
      await dp.createTunnel(tunnelSpec(t));
      for (let s = 1; s <= 4; s++) await dp.createSession(sessionSpec(t, s));
    }
    await dp.deleteSession(2, 1);
    await dp.close();
    expect(k.tunnels.size).toBe(0);
    expect(k.sessions.size).toBe(0);
  });

  it('reads counters of a session, and undefined for one the kernel does not have', async () => {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks);
    await dp.createTunnel(tunnelSpec(1));
    await dp.createSession(sessionSpec(1, 5));
    expect(await dp.counters(1, 5)).toMatchObject({ rxPackets: 0 });
    expect(await dp.counters(1, 6)).toBeUndefined();
  });
});

describe('RemoteDataPlane (worker) ⇄ executeDataPlaneCall (main thread)', () => {
  /** A worker's calls crossing a structured clone, answered by `target`. */
  function connect(target: DataPlane): RemoteDataPlane {
    const remote: RemoteDataPlane = new RemoteDataPlane('kernel', (id, call) => {
      const cloned = structuredClone(call) as DataPlaneCall; // Buffers arrive as Uint8Arrays
      void executeDataPlaneCall(target, id, cloned).then((reply) => remote.settle(structuredClone(reply)));
    });
    return remote;
  }

  it('carries calls, results and cookies across the thread boundary', async () => {
    const seen: SessionSpec[] = [];
    const target = new NullDataPlane();
    const orig = target.createSession.bind(target);
    target.createSession = async (spec) => {
      seen.push(spec);
      return orig(spec);
    };
    const remote = connect(target);
    await remote.createTunnel(tunnelSpec(3));
    await remote.createSession({ ...sessionSpec(3, 1), pseudowire: 'ethernet', cookie: Buffer.from('01020304', 'hex'), peerCookie: Buffer.from('0a0b0c0d0e0f1011', 'hex') });
    expect(Buffer.isBuffer(seen[0]!.cookie)).toBe(true);
    expect(seen[0]!.cookie!.toString('hex')).toBe('01020304');
    expect(seen[0]!.peerCookie!.toString('hex')).toBe('0a0b0c0d0e0f1011');
    expect(await remote.counters(3, 1)).toMatchObject({ rxPackets: 0 });
  });

  it('turns sequencing on for a session a PPPoL2TP connect made (SESSION_MODIFY through the main thread)', async () => {
    const k = new FakeKernel();
    const remote = connect(new KernelDataPlane(new L2tpGenl(k), noLinks));
    await remote.createTunnel(tunnelSpec(1));
    await remote.modifySession({ localTunnelId: 1, localSessionId: 9, sequencing: true, lnsMode: true });
    const m = k.calls.find((c) => c.cmd === L2tpCmd.SESSION_MODIFY)!;
    expect(m.attrs.get(9)!.readUInt32LE(0)).toBe(1);
    expect(m.attrs.get(11)!.readUInt32LE(0)).toBe(9);
    expect([m.attrs.get(19)![0], m.attrs.get(18)![0], m.attrs.get(20)![0]]).toEqual([1, 1, 1]); // SEND_SEQ, RECV_SEQ, LNS_MODE
    await expect(connect(new NullDataPlane()).modifySession({ localTunnelId: 1, localSessionId: 9, sequencing: true, lnsMode: false })).rejects.toMatchObject({
      operation: 'session modify',
    });
  });

  it("rejects with the main thread error's code and operation", async () => {
    const k = new FakeKernel();
    const remote = connect(new KernelDataPlane(new L2tpGenl(k), noLinks));
    await remote.createTunnel(tunnelSpec(1));
    await expect(remote.createTunnel(tunnelSpec(1))).rejects.toMatchObject({ name: 'DataPlaneError', code: 'EEXIST', operation: 'tunnel create' });
    await expect(remote.pppInterfaceUp({ unit: 3, peer: '198.18.9.9' })).resolves.toEqual({ ifname: 'ppp3', ifindex: 103 });
    await expect(connect(new NullDataPlane()).pppInterfaceUp({ unit: 1 })).rejects.toThrow(/no PPP interfaces/);
  });

  it('fails pending calls when closed instead of leaving them hanging', async () => {
    const remote = new RemoteDataPlane('kernel', () => undefined);
    const p = remote.deleteTunnel(1);
    await remote.close();
    await expect(p).rejects.toThrow(/closed/);
  });
});

describe('KernelDataPlane ordering', () => {
  it('runs a tunnel\'s calls in order even when the kernel answers slowly (session create never overtakes its tunnel)', async () => {
    const k = new FakeKernel();
    const slow: GenlTransport = {
      request: async (cmd, attrs, dump) => {
        if (cmd === L2tpCmd.TUNNEL_CREATE) await new Promise((r) => setTimeout(r, 30));
        return k.request(cmd, attrs);
      },
      close() {},
    };
    const dp = new KernelDataPlane(new L2tpGenl(slow), noLinks);
    const results = await Promise.allSettled([dp.createTunnel(tunnelSpec(1)), dp.createSession(sessionSpec(1, 1)), dp.deleteSession(1, 1), dp.createSession(sessionSpec(1, 2))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const order = k.calls.map((c) => `${c.cmd}:${c.attrs.get(11)?.readUInt32LE(0) ?? '-'}`);
    expect(order[0]).toBe(`${L2tpCmd.TUNNEL_CREATE}:-`);
    expect(order.indexOf(`${L2tpCmd.SESSION_CREATE}:1`)).toBeLessThan(order.indexOf(`${L2tpCmd.SESSION_DELETE}:1`));
    expect([...k.sessions]).toEqual(['1/2']);
  });

  it("does not make a tunnel's sessions wait for each other (one tunnel may set up thousands)", async () => {
    const k = new FakeKernel();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: GenlTransport = {
      request: async (cmd, attrs) => {
        if (cmd === L2tpCmd.SESSION_CREATE && parseAttrs(attrs).get(11)?.readUInt32LE(0) === 1) await gate;
        return k.request(cmd, attrs);
      },
      close() {},
    };
    const dp = new KernelDataPlane(new L2tpGenl(slow), noLinks);
    await dp.createTunnel(tunnelSpec(1));
    const first = dp.createSession(sessionSpec(1, 1));
    await dp.createSession(sessionSpec(1, 2)); // done while session 1 is still waiting on the kernel
    expect([...k.sessions]).toEqual(['1/2']);
    release();
    await first;
    expect(k.sessions.size).toBe(2);
  });

  it('a failed call does not block the calls after it', async () => {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks);
    k.fail = 'ENOBUFS';
    const first = dp.createTunnel(tunnelSpec(1));
    const second = dp.createSession(sessionSpec(1, 1));
    await expect(first).rejects.toMatchObject({ code: 'ENOBUFS' });
    await expect(second).rejects.toMatchObject({ code: 'ENODEV' });
    k.fail = undefined;
    await expect(dp.createTunnel(tunnelSpec(1))).resolves.toBeUndefined();
  });
});

describe('KernelDataPlane: deletions made outside l2tpd (the l2tp multicast group)', () => {
  const settle = () => new Promise((r) => setTimeout(r, 30));
  async function setup() {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks, { attempts: 3, intervalMs: 1 });
    const lost: unknown[] = [];
    dp.onLost((d) => lost.push(d));
    await dp.createTunnel(tunnelSpec(1));
    await dp.createSession(sessionSpec(1, 5));
    return { k, dp, lost };
  }

  it('reports a session an operator deleted (ip l2tp del session) and forgets it', async () => {
    const { k, dp, lost } = await setup();
    k.sessions.delete('1/5');
    k.announce(L2tpCmd.SESSION_DELETE, 1, 5);
    await settle();
    expect(lost).toEqual([{ tunnelId: 1, sessionId: 5 }]);
    expect(dp.objects).toEqual({ tunnels: 1, sessions: 0 });
  });

  it('reports PPP sessions of our tunnels too (made by PPPoL2TP connect, not by netlink)', async () => {
    const { k, lost } = await setup();
    k.announce(L2tpCmd.SESSION_DELETE, 1, 77);
    await settle();
    expect(lost).toEqual([{ tunnelId: 1, sessionId: 77 }]);
  });

  it('reports a deleted tunnel once, and forgets it with its sessions', async () => {
    const { k, dp, lost } = await setup();
    k.tunnels.delete(1);
    k.announce(L2tpCmd.TUNNEL_DELETE, 1);
    k.announce(L2tpCmd.TUNNEL_DELETE, 1);
    await settle();
    expect(lost).toEqual([{ tunnelId: 1 }]);
    expect(dp.objects).toEqual({ tunnels: 0, sessions: 0 });
  });

  it('ignores a notification for IDs we delete ourselves while checking (another namespace deleted the same IDs first)', async () => {
    const k = new FakeKernel();
    const dp = new KernelDataPlane(new L2tpGenl(k), noLinks, { attempts: 5, intervalMs: 5 });
    const lost: unknown[] = [];
    dp.onLost((d) => lost.push(d));
    await dp.createTunnel(tunnelSpec(1));
    await dp.createSession(sessionSpec(1, 5));
    k.announce(L2tpCmd.SESSION_DELETE, 1, 5); // theirs: ours is still there, so the check waits and retries
    await new Promise((r) => setTimeout(r, 2));
    await dp.deleteSession(1, 5); // then we delete ours
    await new Promise((r) => setTimeout(r, 60));
    expect(lost).toEqual([]);
  });

  it('ignores its own deletes, other tunnels, and objects our namespace still has (another namespace deleted its own)', async () => {
    const { k, dp, lost } = await setup();
    await dp.createSession(sessionSpec(1, 6));
    await dp.deleteSession(1, 6); // the fake multicasts our own delete, like the kernel
    k.announce(L2tpCmd.SESSION_DELETE, 9, 1); // not our tunnel
    k.announce(L2tpCmd.SESSION_DELETE, 1, 5); // still present here
    k.announce(L2tpCmd.TUNNEL_DELETE, 1); // still present here
    k.announce(L2tpCmd.TUNNEL_CREATE, 1);
    await settle();
    expect(lost).toEqual([]);
    await dp.deleteTunnel(1);
    await settle();
    expect(lost).toEqual([]);
  });
});

describe('RequestSlots (bounded netlink requests)', () => {
  it('lets n holders through and the rest in order as slots are given back', async () => {
    const { RequestSlots } = await import('../../src/dataplane/kernel/l2tp-genl.js');
    const slots = new RequestSlots(2);
    const order: number[] = [];
    const holders = [1, 2, 3, 4].map((i) => slots.take().then(() => order.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([1, 2]);
    slots.give();
    await holders[2];
    expect(order).toEqual([1, 2, 3]);
    slots.give();
    await holders[3];
    expect(order).toEqual([1, 2, 3, 4]);
  });
});
