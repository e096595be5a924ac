/**
 * The kernel data plane (DESIGN.md "Data plane"): tunnels and sessions live in the Linux L2TP
 * subsystem (l2tp_core, l2tp_netlink, l2tp_ppp, l2tp_eth), programmed over generic netlink; PPP
 * units get their addresses and routes over rtnetlink. User data never reaches Node.
 *
 * Runs in the main thread (the netlink package cannot live in a worker thread, see l2tp-genl.ts);
 * shard workers call it through RemoteDataPlane. PPPoL2TP sockets and /dev/ppp channels belong to
 * the worker that owns the session (ppp-link.ts): file descriptors are process-wide.
 *
 * Every kernel object made here is remembered until deleted, so `close()` (daemon stop) and
 * `forgetShard()`-style cleanups leave nothing behind: `ip l2tp show` is empty after l2tpd stops.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { DataPlaneError, type DataPlane, type DataPlaneCounters, type PppInterfaceResult, type PppInterfaceSpec, type SessionSpec, type TunnelSpec } from '../types.js';
import { loadNetlink, openL2tpGenl, PwType, RequestSlots, type KernelDeletion, type L2tpGenl } from './l2tp-genl.js';

/**
 * Kernel pseudowire types. l2tp_eth registers L2TP_PWTYPE_ETH only (ETH_VLAN is EPROTONOSUPPORT): it carries
 * whole frames, tags included, so an Ethernet-VLAN pseudowire is an l2tpeth interface whose frames are tagged by
 * a VLAN interface on top of it (configureEthernet). The peer still sees pseudowire type 4 on the control plane.
 */
const PW_TYPES: Record<SessionSpec['pseudowire'], number> = { ppp: PwType.PPP, ethernet: PwType.ETH, ethernet_vlan: PwType.ETH };

/** struct nlattr around a value, padded to 4. */
function nla(type: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + value.length + ((4 - (value.length % 4)) % 4));
  b.writeUInt16LE(4 + value.length, 0);
  b.writeUInt16LE(type, 2);
  value.copy(b, 4);
  return b;
}

/** IFLA_LINKINFO of an 802.1Q VLAN link: IFLA_INFO_KIND "vlan", IFLA_INFO_DATA { IFLA_VLAN_ID }. */
export function vlanLinkInfo(vlanId: number): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16LE(vlanId);
  return Buffer.concat([nla(1, Buffer.from('vlan\0')), nla(2, nla(1, id))]);
}

/** `<parent>.<vid>`, the parent's name shortened so the whole fits IFNAMSIZ (15 characters). */
export function vlanIfname(parent: string, vlanId: number): string {
  const suffix = `.${vlanId}`;
  return parent.slice(0, 15 - suffix.length) + suffix;
}

function in4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

/** Links and addresses over rtnetlink (the netlink package's RtNetlinkSocket, main thread only). */
export interface LinkConfigurator {
  configurePpp(spec: PppInterfaceSpec): Promise<PppInterfaceResult>;
  /**
   * An l2tpeth interface: up, MTU no larger than the kernel chose (underlay minus overhead), into its bridge;
   * with a VLAN ID, a VLAN interface on it is made, and that one goes up into the bridge.
   */
  configureEthernet(spec: { ifname: string; mtu?: number; bridge?: string; vlanId?: number }): Promise<void>;
  close(): void;
}

const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
/** NLM_F_CREATE | NLM_F_REPLACE: IPv4 routes need CREATE (else ENOENT); REPLACE makes a re-add after a restart idempotent. */
const CREATE_OR_REPLACE = { flags: NLM_F_CREATE | NLM_F_REPLACE };

interface RtSocket {
  setLink(data: object, attrs?: object): Promise<unknown>;
  newAddress(data: object, attrs?: object): Promise<unknown>;
  newRoute(data: object, attrs?: object, options?: { flags: number }): Promise<unknown>;
  newLink(data: object, attrs?: object, options?: { flags: number }): Promise<unknown>;
  socket: { socket: { close(): void } };
}

export function rtnetlinkConfigurator(): LinkConfigurator {
  const nl = loadNetlink() as unknown as { createRtNetlink(): RtSocket };
  const rt = nl.createRtNetlink();
  // As for generic netlink (l2tp-genl.ts): bounded, so a burst of interfaces does not overflow the socket.
  const slots = new RequestSlots(16);
  const bounded = async <T>(f: () => Promise<T>): Promise<T> => {
    await slots.take();
    try {
      return await f();
    } finally {
      slots.give();
    }
  };
  const sysfs = async (ifname: string, what: string, operation: string): Promise<number> => {
    try {
      return Number((await readFile(`/sys/class/net/${ifname}/${what}`, 'utf8')).trim());
    } catch (e) {
      throw new DataPlaneError(`interface ${ifname} not found: ${String(e)}`, operation, 'ENODEV');
    }
  };
  const stepper = (ifname: string, operation: string) => async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      const code = /Request rejected: (\w+)/.exec(String(e))?.[1];
      throw new DataPlaneError(`${ifname}: ${what} failed: ${code ?? String(e)}`, operation, code);
    }
  };
  return {
    configureEthernet: (spec) => bounded(async () => {
      const step = stepper(spec.ifname, 'ethernet interface');
      const ifindex = await sysfs(spec.ifname, 'ifindex', 'ethernet interface');
      const kernelMtu = await sysfs(spec.ifname, 'mtu', 'ethernet interface');
      const attrs: Record<string, number> = {};
      if (spec.mtu && spec.mtu < kernelMtu) attrs['mtu'] = spec.mtu;
      const master = spec.bridge ? await sysfs(spec.bridge, 'ifindex', 'ethernet interface') : undefined;
      if (master !== undefined && spec.vlanId === undefined) attrs['master'] = master;
      await step('link up', () => rt.setLink({ index: ifindex, flags: { up: true }, change: { up: true } }, attrs));
      if (spec.vlanId === undefined) return;
      const vlanId = spec.vlanId;
      const name = vlanIfname(spec.ifname, vlanId);
      const link = Buffer.alloc(4);
      link.writeUInt32LE(ifindex);
      // Removed by the kernel with its l2tpeth interface (a VLAN link dies with its lower device).
      await step(`VLAN ${vlanId} interface ${name}`, () =>
        rt.newLink(
          { flags: { up: true }, change: { up: true } },
          { ifname: name, link, linkinfo: vlanLinkInfo(vlanId), ...(master !== undefined ? { master } : {}) },
          { flags: NLM_F_CREATE | NLM_F_EXCL },
        ),
      );
    }),
    configurePpp: (spec) => bounded(async () => {
      const ifname = `ppp${spec.unit}`;
      const ifindex = await sysfs(ifname, 'ifindex', 'ppp interface');
      const step = stepper(ifname, 'ppp interface');
      await step('link up', () => rt.setLink({ index: ifindex, flags: { up: true }, change: { up: true } }, spec.mtu ? { mtu: spec.mtu } : {}));
      if (spec.peer && net.isIPv4(spec.peer)) {
        const peer = spec.peer;
        if (spec.local && net.isIPv4(spec.local)) {
          const local = spec.local;
          await step('address', () => rt.newAddress({ family: 2, prefixlen: 32, index: ifindex }, { local: in4(local), address: in4(peer) }));
        } else {
          await step('route', () =>
            rt.newRoute({ family: 2, dstLen: 32, table: 254, protocol: 'BOOT', scope: 'LINK', type: 'UNICAST' }, { dst: in4(peer), oif: ifindex }, CREATE_OR_REPLACE),
          );
        }
      }
      // A route the kernel refuses (overlapping another interface's, say) is reported, not fatal: the
      // subscriber's own link works without it.
      const failedRoutes: string[] = [];
      for (const prefix of spec.routes ?? []) {
        const [dst = '', len = '32'] = prefix.split('/');
        if (!net.isIPv4(dst)) continue;
        await step(`route ${prefix}`, () =>
          rt.newRoute({ family: 2, dstLen: Number(len), table: 254, protocol: 'BOOT', scope: 'LINK', type: 'UNICAST' }, { dst: in4(dst), oif: ifindex }, CREATE_OR_REPLACE),
        ).catch((e: unknown) => failedRoutes.push(`${prefix}: ${e instanceof Error ? e.message : String(e)}`));
      }
      return { ifname, ifindex, ...(failedRoutes.length ? { failedRoutes } : {}) };
    }),
    close() {
      rt.socket.socket.close();
    },
  };
}

export class KernelDataPlane implements DataPlane {
  readonly kind = 'kernel' as const;
  /** Kernel objects we made: tunnel ID → its session IDs. */
  private readonly made = new Map<number, Set<number>>();
  /**
   * Order without serialising a tunnel's sessions: a session's create waits for its tunnel's create (a worker
   * fires the session create one ICRQ/ICCN after the tunnel's, and a netlink round trip can be longer than that
   * exchange), and a session's delete for its create; sessions of one tunnel otherwise run concurrently (one
   * tunnel may set up thousands).
   */
  private readonly tunnelOps = new Map<number, Promise<unknown>>();
  private readonly sessionOps = new Map<string, Promise<unknown>>();

  private chain<K>(map: Map<K, Promise<unknown>>, key: K, op: () => Promise<void>, after?: Promise<unknown>): Promise<void> {
    const before = Promise.all([map.get(key), after]);
    const run = before.then(op, op);
    const tail = run.catch(() => undefined);
    map.set(key, tail);
    void tail.then(() => {
      if (map.get(key) === tail) map.delete(key);
    });
    return run;
  }

  private inTunnelOrder(tunnelId: number, op: () => Promise<void>): Promise<void> {
    return this.chain(this.tunnelOps, tunnelId, op);
  }

  private inSessionOrder(tunnelId: number, sessionId: number, op: () => Promise<void>): Promise<void> {
    return this.chain(this.sessionOps, `${tunnelId}/${sessionId}`, op, this.tunnelOps.get(tunnelId));
  }

  /** Sessions we are deleting ourselves (`t/s`): their multicast notification is our own echo. */
  private readonly deleting = new Set<string>();
  private readonly lostListeners: ((d: KernelDeletion) => void)[] = [];
  private closed = false;

  constructor(
    private readonly genl: L2tpGenl,
    private readonly links: LinkConfigurator,
    /** How long a deletion may take to show (tunnels are freed from a workqueue): checks, and the pause between. */
    private readonly verify = { attempts: 10, intervalMs: 100 },
  ) {
    genl.onDeletion((d) => void this.noticeDeletion(d));
  }

  /**
   * Someone deleted one of our kernel objects (an operator's `ip l2tp del`): the control plane must
   * tear the tunnel or session down properly (StopCCN / CDN), not keep a session whose data path is gone.
   */
  onLost(fn: (d: KernelDeletion) => void): void {
    this.lostListeners.push(fn);
  }

  /**
   * A deletion announced on the multicast group. Ours only if the tunnel is one we made, it is not our
   * own delete, and the kernel of OUR namespace no longer has it (6.1 multicasts every namespace's deletes).
   * Sessions of a tunnel are ours even when a worker made them by PPPoL2TP connect (no netlink create).
   */
  private async noticeDeletion(d: KernelDeletion): Promise<void> {
    if (!this.made.has(d.tunnelId)) return;
    const key = d.sessionId === undefined ? undefined : `${d.tunnelId}/${d.sessionId}`;
    if (key && this.deleting.has(key)) return;
    for (let i = 0; ; i++) {
      if (this.closed) return;
      const present =
        d.sessionId === undefined ? await this.genl.getTunnel(d.tunnelId) : await this.genl.getSession(d.tunnelId, d.sessionId);
      if (!present) break;
      if (i + 1 >= this.verify.attempts) return; // still there: another namespace's object of the same ID
      await new Promise((r) => setTimeout(r, this.verify.intervalMs));
    }
    const sessions = this.made.get(d.tunnelId);
    // Deleted by us meanwhile (another namespace's delete of the same IDs can be followed by ours).
    if (!sessions || (key && this.deleting.has(key))) return;
    if (d.sessionId === undefined) this.made.delete(d.tunnelId);
    else sessions.delete(d.sessionId);
    for (const fn of this.lostListeners) fn(d);
  }

  static async open(): Promise<KernelDataPlane> {
    const genl = await openL2tpGenl();
    try {
      return new KernelDataPlane(genl, rtnetlinkConfigurator());
    } catch (e) {
      genl.close();
      throw new DataPlaneError(`rtnetlink could not be opened: ${String(e)}`, 'open');
    }
  }

  createTunnel(spec: TunnelSpec): Promise<void> {
    return this.inTunnelOrder(spec.localTunnelId, () => this.doCreateTunnel(spec));
  }

  private async doCreateTunnel(spec: TunnelSpec): Promise<void> {
    if (spec.fd === undefined) throw new DataPlaneError(`tunnel ${spec.localTunnelId}: no socket to hand to the kernel`, 'tunnel create', 'EBADF');
    const create = () =>
      this.genl.createTunnel({
        tunnelId: spec.localTunnelId,
        peerTunnelId: spec.peerTunnelId,
        version: spec.version,
        encapsulation: spec.encapsulation,
        fd: spec.fd!,
      });
    // A restarted worker makes its tunnels again while the kernel may still be tearing down the ones whose
    // sockets died with the old worker (deletion runs from a workqueue): EEXIST for a moment, then gone.
    for (let attempt = 0; ; attempt++) {
      try {
        await create();
        break;
      } catch (e) {
        if (!(e instanceof DataPlaneError && e.code === 'EEXIST') || attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.made.set(spec.localTunnelId, new Set());
  }

  deleteTunnel(localTunnelId: number): Promise<void> {
    return this.inTunnelOrder(localTunnelId, () => this.doDeleteTunnel(localTunnelId));
  }

  private async doDeleteTunnel(localTunnelId: number): Promise<void> {
    if (!this.made.delete(localTunnelId)) return;
    try {
      await this.genl.deleteTunnel(localTunnelId);
    } catch (e) {
      // A managed tunnel dies with its socket: already gone is fine.
      if (!(e instanceof DataPlaneError && (e.code === 'ENODEV' || e.code === 'ENOENT'))) throw e;
    }
  }

  createSession(spec: SessionSpec): Promise<void> {
    return this.inSessionOrder(spec.localTunnelId, spec.localSessionId, () => this.doCreateSession(spec));
  }

  private async doCreateSession(spec: SessionSpec): Promise<void> {
    const sessions = this.made.get(spec.localTunnelId);
    if (!sessions) throw new DataPlaneError(`tunnel ${spec.localTunnelId} is not in the kernel`, 'session create', 'ENODEV');
    if (spec.pseudowire === 'ethernet_vlan' && spec.vlanId === undefined) {
      throw new DataPlaneError(`session ${spec.localSessionId}: an Ethernet-VLAN pseudowire needs a VLAN ID (ethernet profile vlan_id)`, 'session create', 'EINVAL');
    }
    await this.genl.createSession({
      tunnelId: spec.localTunnelId,
      sessionId: spec.localSessionId,
      peerSessionId: spec.peerSessionId,
      pwType: PW_TYPES[spec.pseudowire],
      ...(spec.cookie ? { rxCookie: spec.cookie } : {}),
      ...(spec.peerCookie ? { txCookie: spec.peerCookie } : {}),
      ...(spec.l2SpecificSublayer ? { l2spec: spec.l2SpecificSublayer } : {}),
      ...(spec.sequencing ? { sequencing: true } : {}),
      ...(spec.lnsMode ? { lnsMode: true } : {}),
      ...(spec.interfaceName ? { ifname: spec.interfaceName } : {}),
      ...(spec.mtu ? { mtu: spec.mtu } : {}),
    });
    sessions.add(spec.localSessionId);
    if (spec.pseudowire !== 'ppp') {
      // The kernel named the interface (a template's %d filled in): ask it which name, then bring it up.
      const info = await this.genl.getSession(spec.localTunnelId, spec.localSessionId);
      if (!info?.ifname) throw new DataPlaneError(`session ${spec.localSessionId}: the kernel made no interface`, 'session create', 'ENODEV');
      await this.links.configureEthernet({
        ifname: info.ifname,
        ...(spec.mtu ? { mtu: spec.mtu } : {}),
        ...(spec.bridge ? { bridge: spec.bridge } : {}),
        ...(spec.vlanId !== undefined ? { vlanId: spec.vlanId } : {}),
      });
    }
  }

  modifySession(spec: { localTunnelId: number; localSessionId: number; sequencing: boolean; lnsMode: boolean }): Promise<void> {
    return this.inSessionOrder(spec.localTunnelId, spec.localSessionId, async () => {
      await this.genl.modifySession({ tunnelId: spec.localTunnelId, sessionId: spec.localSessionId, sequencing: spec.sequencing, lnsMode: spec.lnsMode });
    });
  }

  deleteSession(localTunnelId: number, localSessionId: number): Promise<void> {
    return this.inSessionOrder(localTunnelId, localSessionId, () => this.doDeleteSession(localTunnelId, localSessionId));
  }

  private async doDeleteSession(localTunnelId: number, localSessionId: number): Promise<void> {
    if (!this.made.get(localTunnelId)?.delete(localSessionId)) return;
    const key = `${localTunnelId}/${localSessionId}`;
    this.deleting.add(key);
    try {
      await this.genl.deleteSession(localTunnelId, localSessionId);
    } catch (e) {
      // Closing a session's PPPoL2TP socket deletes it in the kernel: already gone is fine.
      if (!(e instanceof DataPlaneError && (e.code === 'ENODEV' || e.code === 'ENOENT'))) throw e;
    } finally {
      // Our own notification arrives before or with the answer; keep the mark a moment for a late one.
      setTimeout(() => this.deleting.delete(key), 5000).unref();
    }
  }

  async counters(localTunnelId: number, localSessionId?: number): Promise<DataPlaneCounters | undefined> {
    if (localSessionId === undefined) return (await this.genl.getTunnel(localTunnelId))?.counters;
    return (await this.genl.getSession(localTunnelId, localSessionId))?.counters;
  }

  pppInterfaceUp(spec: PppInterfaceSpec): Promise<PppInterfaceResult> {
    return this.links.configurePpp(spec);
  }

  /** Kernel objects this data plane made and has not deleted (tests, shutdown). */
  get objects(): { tunnels: number; sessions: number } {
    let sessions = 0;
    for (const s of this.made.values()) sessions += s.size;
    return { tunnels: this.made.size, sessions };
  }

  /** Deletes the tunnels (and so their sessions) of a shard that died, and forgets them. */
  async dropTunnels(tunnelIds: Iterable<number>): Promise<void> {
    for (const id of tunnelIds) await this.deleteTunnel(id).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.made.keys()]) await this.deleteTunnel(id).catch(() => undefined);
    this.genl.close();
    this.links.close();
  }
}
