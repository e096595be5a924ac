/**
 * The Linux kernel's L2TP generic netlink family (`l2tp`, include/uapi/linux/l2tp.h): one table of
 * commands and attributes, request encoding and reply decoding as pure functions (tested on any
 * host), and a client over the npm package `netlink`.
 *
 * Attribute integers are host byte order (little-endian here); IPv4/IPv6 addresses are network order.
 * The `netlink` package's native socket aborts the process when its worker thread exits (measured:
 * `FATAL ERROR: Error::Error napi_define_properties` from its poll handler), so this client lives in
 * the main thread and shard workers reach it by message (docs/architecture.md, "Kernel data plane").
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { parseIpv6 } from '../../util/frames.js';
import { DataPlaneError, type DataPlaneCounters } from '../types.js';

export const L2TP_GENL_NAME = 'l2tp';
export const L2TP_GENL_VERSION = 1;
export const L2TP_GENL_MCGROUP = 'l2tp';

export const L2tpCmd = {
  TUNNEL_CREATE: 1,
  TUNNEL_DELETE: 2,
  TUNNEL_MODIFY: 3,
  TUNNEL_GET: 4,
  SESSION_CREATE: 5,
  SESSION_DELETE: 6,
  SESSION_MODIFY: 7,
  SESSION_GET: 8,
} as const;

/** Attribute number → how its value is encoded. */
type AttrKind = 'u8' | 'u16' | 'u32' | 's32' | 'flag' | 'string' | 'in4' | 'in6' | 'bytes' | 'nested';

const ATTRS = {
  PW_TYPE: [1, 'u16'],
  ENCAP_TYPE: [2, 'u16'],
  L2SPEC_TYPE: [5, 'u8'],
  L2SPEC_LEN: [6, 'u8'],
  PROTO_VERSION: [7, 'u8'],
  IFNAME: [8, 'string'],
  CONN_ID: [9, 'u32'],
  PEER_CONN_ID: [10, 'u32'],
  SESSION_ID: [11, 'u32'],
  PEER_SESSION_ID: [12, 'u32'],
  UDP_CSUM: [13, 'flag'],
  COOKIE: [15, 'bytes'],
  PEER_COOKIE: [16, 'bytes'],
  RECV_SEQ: [18, 'u8'],
  SEND_SEQ: [19, 'u8'],
  LNS_MODE: [20, 'u8'],
  FD: [23, 's32'],
  IP_SADDR: [24, 'in4'],
  IP_DADDR: [25, 'in4'],
  UDP_SPORT: [26, 'u16'],
  UDP_DPORT: [27, 'u16'],
  MTU: [28, 'u16'],
  STATS: [30, 'nested'],
  IP6_SADDR: [31, 'in6'],
  IP6_DADDR: [32, 'in6'],
} as const satisfies Record<string, readonly [number, AttrKind]>;

export type L2tpAttrName = keyof typeof ATTRS;
export const L2tpAttr = Object.fromEntries(Object.entries(ATTRS).map(([k, [n]]) => [k, n])) as { [K in L2tpAttrName]: (typeof ATTRS)[K][0] };

const STATS = {
  1: 'txPackets',
  2: 'txBytes',
  3: 'txErrors',
  4: 'rxPackets',
  5: 'rxBytes',
  6: 'rxSeqDiscards',
  8: 'rxErrors',
} as const satisfies Record<number, keyof DataPlaneCounters>;

export const PwType = { ETH_VLAN: 4, ETH: 5, PPP: 7 } as const;
export const EncapType = { UDP: 0, IP: 1 } as const;
export const L2specType = { NONE: 0, DEFAULT: 1 } as const;

export type AttrValue = number | boolean | string | Buffer;
export type AttrList = [L2tpAttrName, AttrValue][];

function encodeValue(name: L2tpAttrName, v: AttrValue): Buffer {
  const kind: AttrKind = ATTRS[name][1];
  switch (kind) {
    case 'u8':
      return Buffer.from([Number(v) & 0xff]);
    case 'u16': {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(Number(v));
      return b;
    }
    case 'u32': {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number(v) >>> 0);
      return b;
    }
    case 's32': {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(v));
      return b;
    }
    case 'flag':
      return Buffer.alloc(0);
    case 'string':
      return Buffer.from(`${String(v)}\0`);
    case 'in4':
      if (typeof v !== 'string' || !net.isIPv4(v)) throw new DataPlaneError(`${name}: not an IPv4 address: ${String(v)}`, 'encode');
      return Buffer.from(v.split('.').map(Number));
    case 'in6':
      if (typeof v !== 'string' || !net.isIPv6(v)) throw new DataPlaneError(`${name}: not an IPv6 address: ${String(v)}`, 'encode');
      return parseIpv6(v);
    case 'bytes':
    case 'nested':
      if (!Buffer.isBuffer(v)) throw new DataPlaneError(`${name}: expected bytes`, 'encode');
      return v;
  }
}

/** Netlink attributes (struct nlattr: u16 length, u16 type, value, padded to 4). */
export function encodeAttrs(list: AttrList): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of list) {
    const v = encodeValue(name, value);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt16LE(4 + v.length, 0);
    hdr.writeUInt16LE(ATTRS[name][0], 2);
    parts.push(hdr, v);
    const pad = (4 - (v.length % 4)) % 4;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  return Buffer.concat(parts);
}

/** Raw attributes of a message body, by number. Truncated attributes end the walk (never throw). */
export function parseAttrs(body: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= body.length) {
    const len = body.readUInt16LE(off);
    const type = body.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > body.length) break;
    out.set(type, body.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

function readU64(b: Buffer | undefined): number {
  if (!b || b.length < 8) return 0;
  return Number(b.readBigUInt64LE(0));
}

export interface KernelTunnelInfo {
  tunnelId: number;
  peerTunnelId: number;
  version: number;
  encapsulation: 'udp' | 'ip';
  counters: DataPlaneCounters;
}

export interface KernelSessionInfo {
  tunnelId: number;
  sessionId: number;
  peerSessionId: number;
  pwType: number;
  ifname?: string;
  counters: DataPlaneCounters;
}

export function decodeCounters(nested: Buffer | undefined): DataPlaneCounters {
  const c: DataPlaneCounters = { txPackets: 0, txBytes: 0, txErrors: 0, rxPackets: 0, rxBytes: 0, rxErrors: 0, rxSeqDiscards: 0 };
  if (!nested) return c;
  for (const [type, v] of parseAttrs(nested)) {
    const key = (STATS as Record<number, keyof DataPlaneCounters | undefined>)[type];
    if (key) c[key] = readU64(v);
  }
  return c;
}

const u32 = (b: Buffer | undefined): number => (b && b.length >= 4 ? b.readUInt32LE(0) : 0);
const u16 = (b: Buffer | undefined): number => (b && b.length >= 2 ? b.readUInt16LE(0) : 0);

export function decodeTunnel(body: Buffer): KernelTunnelInfo {
  const a = parseAttrs(body);
  return {
    tunnelId: u32(a.get(L2tpAttr.CONN_ID)),
    peerTunnelId: u32(a.get(L2tpAttr.PEER_CONN_ID)),
    version: a.get(L2tpAttr.PROTO_VERSION)?.[0] ?? 0,
    encapsulation: u16(a.get(L2tpAttr.ENCAP_TYPE)) === EncapType.IP ? 'ip' : 'udp',
    counters: decodeCounters(a.get(L2tpAttr.STATS)),
  };
}

export function decodeSession(body: Buffer): KernelSessionInfo {
  const a = parseAttrs(body);
  const ifname = a.get(L2tpAttr.IFNAME);
  return {
    tunnelId: u32(a.get(L2tpAttr.CONN_ID)),
    sessionId: u32(a.get(L2tpAttr.SESSION_ID)),
    peerSessionId: u32(a.get(L2tpAttr.PEER_SESSION_ID)),
    pwType: u16(a.get(L2tpAttr.PW_TYPE)),
    ...(ifname ? { ifname: ifname.toString('utf8').replace(/\0.*$/s, '') } : {}),
    counters: decodeCounters(a.get(L2tpAttr.STATS)),
  };
}

/** What the client needs from a generic netlink socket (the real one, or a test double). */
export interface GenlTransport {
  request(cmd: number, attrs: Buffer, dump: boolean): Promise<Buffer[]>;
  /** Kernel notifications on the `l2tp` multicast group (command, attributes). */
  onNotification?(fn: (cmd: number, body: Buffer) => void): void;
  close(): void;
}

/**
 * A tunnel or session deleted in the kernel by someone (`ip l2tp del ...`, another daemon): the `l2tp`
 * multicast group announces every delete made over netlink, in every network namespace (the 6.1
 * kernel multicasts to all), so a notification is a hint to check, not proof that ours is gone.
 */
export interface KernelDeletion {
  tunnelId: number;
  sessionId?: number;
}

export function decodeDeletion(cmd: number, body: Buffer): KernelDeletion | undefined {
  if (cmd !== L2tpCmd.TUNNEL_DELETE && cmd !== L2tpCmd.SESSION_DELETE) return undefined;
  const a = parseAttrs(body);
  const tunnelId = u32(a.get(L2tpAttr.CONN_ID));
  if (cmd === L2tpCmd.TUNNEL_DELETE) return { tunnelId };
  return { tunnelId, sessionId: u32(a.get(L2tpAttr.SESSION_ID)) };
}

/** errno name of a failed netlink request (`Request rejected: EEXIST` from the netlink package). */
export function errnoOf(e: unknown): string | undefined {
  const m = /Request rejected: (\w+)/.exec(e instanceof Error ? e.message : String(e));
  return m?.[1] ?? (e as { code?: string } | undefined)?.code;
}

export class L2tpGenl {
  constructor(private readonly t: GenlTransport) {}

  private async call(operation: string, cmd: number, list: AttrList, dump = false): Promise<Buffer[]> {
    try {
      return await this.t.request(cmd, encodeAttrs(list), dump);
    } catch (e) {
      const code = errnoOf(e);
      throw new DataPlaneError(`kernel ${operation} failed: ${code ?? (e instanceof Error ? e.message : String(e))}`, operation, code);
    }
  }

  createTunnel(o: {
    tunnelId: number;
    peerTunnelId: number;
    version: 2 | 3;
    encapsulation: 'udp' | 'ip';
    fd: number;
    udpChecksum?: boolean;
  }): Promise<unknown> {
    const list: AttrList = [
      ['CONN_ID', o.tunnelId],
      ['PEER_CONN_ID', o.peerTunnelId],
      ['PROTO_VERSION', o.version],
      ['ENCAP_TYPE', o.encapsulation === 'ip' ? EncapType.IP : EncapType.UDP],
      ['FD', o.fd],
    ];
    // UDP_CSUM is a flag on create: its presence alone turns checksums on.
    if (o.udpChecksum) list.push(['UDP_CSUM', true]);
    return this.call('tunnel create', L2tpCmd.TUNNEL_CREATE, list);
  }

  deleteTunnel(tunnelId: number): Promise<unknown> {
    return this.call('tunnel delete', L2tpCmd.TUNNEL_DELETE, [['CONN_ID', tunnelId]]);
  }

  createSession(o: {
    tunnelId: number;
    sessionId: number;
    peerSessionId: number;
    pwType: number;
    /**
     * L2TP_ATTR_COOKIE is what the kernel puts in every data message it sends (the peer's Assigned Cookie);
     * L2TP_ATTR_PEER_COOKIE what it requires in every one it receives (ours): l2tp_recv_common drops the rest.
     */
    txCookie?: Buffer;
    rxCookie?: Buffer;
    l2spec?: 'none' | 'default';
    sequencing?: boolean;
    lnsMode?: boolean;
    ifname?: string;
    mtu?: number;
  }): Promise<unknown> {
    const list: AttrList = [
      ['CONN_ID', o.tunnelId],
      ['SESSION_ID', o.sessionId],
      ['PEER_SESSION_ID', o.peerSessionId],
      ['PW_TYPE', o.pwType],
    ];
    if (o.l2spec !== undefined) {
      list.push(['L2SPEC_TYPE', o.l2spec === 'default' ? L2specType.DEFAULT : L2specType.NONE]);
      list.push(['L2SPEC_LEN', o.l2spec === 'default' ? 4 : 0]);
    }
    if (o.txCookie?.length) list.push(['COOKIE', o.txCookie]);
    if (o.rxCookie?.length) list.push(['PEER_COOKIE', o.rxCookie]);
    if (o.sequencing) list.push(['SEND_SEQ', 1], ['RECV_SEQ', 1]);
    if (o.lnsMode) list.push(['LNS_MODE', 1]);
    if (o.ifname) list.push(['IFNAME', o.ifname]);
    if (o.mtu) list.push(['MTU', o.mtu]);
    return this.call('session create', L2tpCmd.SESSION_CREATE, list);
  }

  /**
   * SESSION_MODIFY: sequencing of a session the kernel already has (one a PPPoL2TP connect created, which takes no
   * options). The kernel's TUNNEL_MODIFY changes only debug flags, so tunnels have no counterpart.
   */
  modifySession(o: { tunnelId: number; sessionId: number; sequencing: boolean; lnsMode: boolean }): Promise<unknown> {
    return this.call('session modify', L2tpCmd.SESSION_MODIFY, [
      ['CONN_ID', o.tunnelId],
      ['SESSION_ID', o.sessionId],
      ['SEND_SEQ', o.sequencing ? 1 : 0],
      ['RECV_SEQ', o.sequencing ? 1 : 0],
      ['LNS_MODE', o.lnsMode ? 1 : 0],
    ]);
  }

  deleteSession(tunnelId: number, sessionId: number): Promise<unknown> {
    return this.call('session delete', L2tpCmd.SESSION_DELETE, [
      ['CONN_ID', tunnelId],
      ['SESSION_ID', sessionId],
    ]);
  }

  /** One object, or undefined when the kernel has none by that ID. */
  private async getOne<T>(operation: string, cmd: number, list: AttrList, decode: (b: Buffer) => T): Promise<T | undefined> {
    try {
      const [m] = await this.call(operation, cmd, list);
      return m ? decode(m) : undefined;
    } catch (e) {
      if (e instanceof DataPlaneError && (e.code === 'ENODEV' || e.code === 'ENOENT')) return undefined;
      throw e;
    }
  }

  getTunnel(tunnelId: number): Promise<KernelTunnelInfo | undefined> {
    return this.getOne('tunnel get', L2tpCmd.TUNNEL_GET, [['CONN_ID', tunnelId]], decodeTunnel);
  }

  getSession(tunnelId: number, sessionId: number): Promise<KernelSessionInfo | undefined> {
    return this.getOne('session get', L2tpCmd.SESSION_GET, [['CONN_ID', tunnelId], ['SESSION_ID', sessionId]], decodeSession);
  }

  async dumpTunnels(): Promise<KernelTunnelInfo[]> {
    return (await this.call('tunnel dump', L2tpCmd.TUNNEL_GET, [], true)).map(decodeTunnel);
  }

  async dumpSessions(): Promise<KernelSessionInfo[]> {
    return (await this.call('session dump', L2tpCmd.SESSION_GET, [], true)).map(decodeSession);
  }

  /** Deletions announced on the `l2tp` multicast group; false when the transport cannot listen. */
  onDeletion(fn: (d: KernelDeletion) => void): boolean {
    if (!this.t.onNotification) return false;
    this.t.onNotification((cmd, body) => {
      const d = decodeDeletion(cmd, body);
      if (d) fn(d);
    });
    return true;
  }

  close(): void {
    this.t.close();
  }
}

/** Netlink requests in flight at most, and how long one may take before it fails (it never settles otherwise). */
const MAX_IN_FLIGHT = 32;
const REQUEST_TIMEOUT_MS = 15_000;

/** A counting semaphore: at most `n` holders, the rest wait in order. */
export class RequestSlots {
  private waiting: (() => void)[] = [];
  private free: number;
  constructor(n: number) {
    this.free = n;
  }
  take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

interface NetlinkModule {
  createGenericNetlink(o?: { ref?: boolean }): {
    ctrlRequest(cmd: number, msg: { familyName: string }): Promise<{ familyId?: number; mcastGroups?: { name?: string; id?: number }[] }[]>;
    request(family: number, cmd: number, version: number, data: Uint8Array, options?: { flags?: number; timeout?: number }): Promise<[{ cmd: number; data: Buffer }[], unknown]>;
    on(ev: 'message', fn: (msgs: { cmd: number; data: Buffer; family: number; seq: number }[]) => void): void;
    socket: { addMembership(group: number): void; socket: { close(): void } };
  };
  genl: { Commands: { GET_FAMILY: number } };
  FlagsGet: { DUMP: number };
}

export function loadNetlink(): NetlinkModule {
  return createRequire(import.meta.url)('netlink') as NetlinkModule;
}

/** Opens the `l2tp` family; fails with a DataPlaneError naming why (module not loaded...). */
export async function openL2tpGenl(): Promise<L2tpGenl> {
  let nl: NetlinkModule;
  try {
    nl = loadNetlink();
  } catch (e) {
    throw new DataPlaneError(`the netlink package could not be loaded: ${e instanceof Error ? e.message : String(e)}`, 'open');
  }
  const sock = nl.createGenericNetlink();
  let fam: { familyId?: number; mcastGroups?: { name?: string; id?: number }[] } | undefined;
  try {
    [fam] = await sock.ctrlRequest(nl.genl.Commands.GET_FAMILY, { familyName: L2TP_GENL_NAME });
  } catch (e) {
    sock.socket.socket.close();
    throw new DataPlaneError(`generic netlink family l2tp not found (${errnoOf(e) ?? String(e)}): load the l2tp_netlink module`, 'open', errnoOf(e));
  }
  const familyId = fam?.familyId;
  if (familyId === undefined) {
    sock.socket.socket.close();
    throw new DataPlaneError('generic netlink family l2tp not found: load the l2tp_netlink module', 'open');
  }
  const group = fam?.mcastGroups?.find((g) => g.name === L2TP_GENL_MCGROUP)?.id;
  // Bounded: a thousand session creates fired at once overflowed the socket's receive buffer under
  // emulation and their acknowledgements were lost (requests that never settled, sessions never attached).
  const slots = new RequestSlots(MAX_IN_FLIGHT);
  const transport: GenlTransport = {
    async request(cmd, attrs, dump) {
      await slots.take();
      try {
        const [msgs] = await sock.request(familyId, cmd, L2TP_GENL_VERSION, attrs, { timeout: REQUEST_TIMEOUT_MS, ...(dump ? { flags: nl.FlagsGet.DUMP } : {}) });
        return msgs.map((m) => m.data);
      } finally {
        slots.give();
      }
    },
    onNotification(fn) {
      if (group === undefined) return;
      sock.socket.addMembership(group);
      // Answers to our own requests went to their callbacks; what reaches 'message' is the group's
      // (carrying the requester's sequence number, e.g. ip(8)'s, hence no filter on seq).
      sock.on('message', (msgs) => {
        for (const m of msgs) if (m.family === familyId) fn(m.cmd, m.data);
      });
    },
    close() {
      sock.socket.socket.close();
    },
  };
  return new L2tpGenl(transport);
}
