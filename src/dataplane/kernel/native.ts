/**
 * The kernel calls Node cannot make — PPPoL2TP sockets, /dev/ppp ioctls, L2TP/IP sockets — and a frame reader
 * for the descriptors they return, from the project's own N-API addon (native/, described in native/README.md).
 *
 * The addon is loaded on first use, so importing this module costs nothing on a host where it was not built
 * (the null data plane needs none of it). Every failure is a NativeError whose `code` is the errno name.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A failed kernel call: `code` is the errno name ('EAGAIN', 'ENOENT'...) or 'EOF' when a watched fd ended. */
export class NativeError extends Error {
  override readonly name = 'NativeError';
  constructor(
    message: string,
    readonly code: string,
    readonly syscall?: string,
    /** Negative errno, as in Node's own system errors; undefined for 'EOF'. */
    readonly errno?: number,
  ) {
    super(message);
  }
}

/** The addon is not built (no compiler or headers at install time), stale, or failed to load. */
export class NativeAddonUnavailableError extends Error {
  override readonly name = 'NativeAddonUnavailableError';
  constructor(
    readonly reason: string,
    readonly addonPath: string,
  ) {
    super(`l2tp native addon unavailable: ${reason}`);
  }
}

/** PPPIOCSFLAGS / PPPIOCGFLAGS bits (linux/ppp-ioctl.h). */
export const PPP_FLAGS = {
  SC_COMP_PROT: 0x1,
  SC_COMP_AC: 0x2,
  SC_COMP_TCP: 0x4,
  SC_NO_TCP_CCID: 0x8,
  SC_REJ_COMP_AC: 0x10,
  SC_REJ_COMP_TCP: 0x20,
  SC_CCP_OPEN: 0x40,
  SC_CCP_UP: 0x80,
  SC_ENABLE_IP: 0x100,
  SC_LOOP_TRAFFIC: 0x200,
  SC_MULTILINK: 0x400,
  SC_MP_SHORTSEQ: 0x800,
  SC_MP_XSHORTSEQ: 0x4000,
  SC_DEBUG: 0x10000,
  SC_SYNC: 0x200000,
  SC_MUST_COMP: 0x400000,
} as const;

/** enum NPmode (linux/ppp_defs.h): what a PPP unit does with a network protocol's packets (PPPIOCSNPMODE). */
export const NP_MODE = { PASS: 0, DROP: 1, ERROR: 2, QUEUE: 3 } as const;
export type NpMode = (typeof NP_MODE)[keyof typeof NP_MODE];

/** PPP protocol numbers (linux/ppp_defs.h) for pppSetNpMode. */
export const PPP_PROTOCOL = { IP: 0x21, IPV6: 0x57 } as const;

export interface Pppol2tpConnectOptions {
  /** The tunnel's UDP or L2TP/IP socket, already known to the kernel as a tunnel. */
  tunnelFd: number;
  localTunnelId: number;
  localSessionId: number;
  peerTunnelId: number;
  peerSessionId: number;
  /** 2: 16-bit ids (sockaddr_pppol2tp); 3: 32-bit ids (sockaddr_pppol2tpv3). */
  version: 2 | 3;
  /** The tunnel socket is IPv6 (the *in6 sockaddr variants). */
  ipv6?: boolean;
}

export interface L2tpIpSocketOptions {
  family: 4 | 6;
  localAddress: string;
  /** Our Control Connection ID: the kernel delivers control messages carrying it to this socket (0: SCCRQs). */
  localConnId: number;
  /** Absent: the socket is not connected (a listener; read it with watchFrom to learn each sender). */
  peerAddress?: string;
  /** The peer's Control Connection ID, when known (the kernel only reports it in getpeername); default 0. */
  peerConnId?: number;
}

/** A uv_poll on one fd; see watch(). */
export interface Watch {
  readonly fd: number;
  /** False once close() ran, closeFd(fd) closed the fd, or end of file or a read error ended the watch. */
  readonly active: boolean;
  /** Stops reading at once (no further callbacks, even for frames already queued). Idempotent. */
  close(): void;
}

export interface UdpSocketOptions {
  localAddress: string;
  /** 0: an ephemeral port. */
  localPort: number;
  /** Without a peer the socket stays unconnected: sendFrame names the destination, watchBatchFrom reads the sources. */
  peerAddress?: string;
  peerPort?: number;
  /** SO_REUSEADDR before bind(): a tunnel socket on the listener's port. */
  reuseAddr?: boolean;
  /** SO_RCVBUF and SO_SNDBUF (capped by the kernel at rmem_max / wmem_max). */
  bufferBytes?: number;
}

export interface UdpSocketInfo {
  fd: number;
  /** getsockname(): where the socket is bound. */
  address: string;
  port: number;
  /** The receive buffer the kernel granted for payload (half of what SO_RCVBUF reports). */
  receiveBuffer: number;
}

/** The addon's own exports (native/l2tp_native.c); the functions below are its typed face. */
export interface NativeAddon {
  pppol2tpConnect(options: Pppol2tpConnectOptions): number;
  l2tpIpSocket(options: L2tpIpSocketOptions): number;
  socketPair(): [number, number];
  pppChannelIndex(fd: number): number;
  pppOpenChannel(channelIndex: number): number;
  pppNewUnit(unit: number): { fd: number; unit: number };
  pppConnectChannel(channelFd: number, unit: number): void;
  pppDisconnectChannel(channelFd: number): void;
  pppSetMru(fd: number, mru: number): void;
  pppSetFlags(fd: number, flags: number): void;
  pppGetFlags(fd: number): number;
  pppGetIdle(unitFd: number): { xmitIdle: number; recvIdle: number };
  pppSetNpMode(unitFd: number, protocol: number, mode: number): void;
  watchStart(fd: number, onFrame: (frame: Buffer, source?: string) => void, onError?: (err: NativeError) => void, withSource?: boolean): number;
  watchBatchStart(fd: number, onBatch: (data: Buffer, ends: Uint32Array, sources?: Uint32Array) => void, onError?: (err: NativeError) => void, withSource?: boolean): number;
  udpSocket(options: UdpSocketOptions): UdpSocketInfo;
  udpConnect(fd: number, address: string, port: number): void;
  echoInit(onDead: (ids: Uint32Array) => void): void;
  echoAdd(options: EchoEntryOptions): number;
  echoRemove(id: number): void;
  echoStats(): EchoStats;
  sendFrame(fd: number, frame: Uint8Array | readonly Uint8Array[], address?: string, port?: number): void;
  watchStop(id: number): void;
  watchActive(id: number): boolean;
  writeFrame(fd: number, frame: Uint8Array): void;
  closeFd(fd: number): void;
  setErrorClass(ctor: typeof NativeError): void;
  constants: Readonly<Record<string, number>>;
}

const ADDON_FILE = 'l2tp_native.node';

/** native/build of this checkout or installed package: the first ancestor holding native/build.mjs. */
function defaultBuildDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'native', 'build.mjs'))) return join(dir, 'native', 'build');
    const parent = dirname(dir);
    if (parent === dir) throw new NativeAddonUnavailableError('native/ not found above this module', ADDON_FILE);
    dir = parent;
  }
}

function buildFailureReason(buildDir: string): string {
  try {
    const status = JSON.parse(readFileSync(join(buildDir, 'status.json'), 'utf8')) as { ok?: boolean; reason?: string };
    if (status.ok === false && status.reason) return `not built: ${status.reason}`;
  } catch {
    /* no status: the build never ran */
  }
  return 'not built: run `node native/build.mjs` (npm install runs it)';
}

/** A source file newer than the addon: loading it would run code that no longer matches native/*.c. */
function newerSource(buildDir: string, addonMtime: number): string | undefined {
  const sourceDir = dirname(buildDir);
  let names: string[];
  try {
    names = readdirSync(sourceDir).filter((f) => f.endsWith('.c') || f.endsWith('.h'));
  } catch {
    return undefined;
  }
  return names.find((f) => statSync(join(sourceDir, f)).mtimeMs > addonMtime);
}

/**
 * Loads the addon from `buildDir` (default: native/build of this package), without caching. Throws
 * NativeAddonUnavailableError saying why when it is missing, stale or does not load.
 */
export function loadNativeAddonFrom(buildDir: string): NativeAddon {
  const path = join(buildDir, ADDON_FILE);
  if (!existsSync(path)) throw new NativeAddonUnavailableError(buildFailureReason(buildDir), path);
  const stale = newerSource(buildDir, statSync(path).mtimeMs);
  if (stale) throw new NativeAddonUnavailableError(`stale: native/${stale} is newer; run \`node native/build.mjs\``, path);
  let native: NativeAddon;
  try {
    native = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    throw new NativeAddonUnavailableError(`failed to load: ${(err as Error).message}`, path);
  }
  native.setErrorClass(NativeError);
  return native;
}

let loaded: NativeAddon | NativeAddonUnavailableError | undefined;

function addon(): NativeAddon {
  if (loaded === undefined) {
    try {
      loaded = loadNativeAddonFrom(defaultBuildDir());
    } catch (err) {
      loaded = err instanceof NativeAddonUnavailableError ? err : new NativeAddonUnavailableError(String(err), ADDON_FILE);
    }
  }
  if (loaded instanceof NativeAddonUnavailableError) throw loaded;
  return loaded;
}

/** Whether the addon loads here, and if not why — for `dataplane: auto` to say which plane it picked. */
export function nativeAddonStatus(): { available: true } | { available: false; reason: string } {
  try {
    addon();
    return { available: true };
  } catch (err) {
    return { available: false, reason: (err as Error).message };
  }
}

/** The kernel header values the addon was compiled with (AF_PPPOX, PX_PROTO_OL2TP, SC_*, NPMODE_*, PPP_*). */
export function kernelConstants(): Readonly<Record<string, number>> {
  return addon().constants;
}

/**
 * A PPPoL2TP session socket: socket(AF_PPPOX, SOCK_DGRAM, PX_PROTO_OL2TP) then connect() with
 * sockaddr_pppol2tp (v2) or sockaddr_pppol2tpv3 (v3), or their in6 variants. Returns the fd (O_CLOEXEC,
 * nonblocking); it is a PPP channel — see pppChannelIndex().
 */
export function pppol2tpConnect(options: Pppol2tpConnectOptions): number {
  return addon().pppol2tpConnect(options);
}

/** The PPP channel index of a PPPoL2TP socket (PPPIOCGCHAN). */
export function pppChannelIndex(fd: number): number {
  return addon().pppChannelIndex(fd);
}

/** Opens /dev/ppp and attaches it to a channel (PPPIOCATTCHAN): the fd reads and writes the channel's LCP frames. */
export function pppOpenChannel(channelIndex: number): number {
  return addon().pppOpenChannel(channelIndex);
}

/** Opens /dev/ppp and creates a PPP unit, the pppN interface (PPPIOCNEWUNIT); unit -1 lets the kernel choose. */
export function pppNewUnit(unit = -1): { fd: number; unit: number } {
  return addon().pppNewUnit(unit);
}

/** Connects a channel (a pppOpenChannel fd) to a unit (PPPIOCCONNECT). */
export function pppConnectChannel(channelFd: number, unit: number): void {
  addon().pppConnectChannel(channelFd, unit);
}

/** Disconnects a channel from its unit (PPPIOCDISCONN). */
export function pppDisconnectChannel(channelFd: number): void {
  addon().pppDisconnectChannel(channelFd);
}

/** Sets the maximum receive unit of a unit or channel fd (PPPIOCSMRU). */
export function pppSetMru(fd: number, mru: number): void {
  addon().pppSetMru(fd, mru);
}

/** Sets the PPP_FLAGS bits of a unit fd (PPPIOCSFLAGS). */
export function pppSetFlags(fd: number, flags: number): void {
  addon().pppSetFlags(fd, flags);
}

/** Reads the PPP_FLAGS bits of a unit fd (PPPIOCGFLAGS). */
export function pppGetFlags(fd: number): number {
  return addon().pppGetFlags(fd);
}

/** Seconds since the unit last sent / received a data (network-protocol) packet (PPPIOCGIDLE); control frames do not count. */
export function pppGetIdle(unitFd: number): { xmitIdle: number; recvIdle: number } {
  return addon().pppGetIdle(unitFd);
}

/** Sets what a unit does with one network protocol's packets (PPPIOCSNPMODE with struct npioctl). */
export function pppSetNpMode(unitFd: number, protocol: number, mode: NpMode): void {
  addon().pppSetNpMode(unitFd, protocol, mode);
}

/**
 * An L2TPv3-over-IP socket: socket(AF_INET[6], SOCK_DGRAM, IPPROTO_L2TP), bind() to
 * sockaddr_l2tpip{localAddress, localConnId}, and with a peer connect() to {peerAddress, peerConnId}. Returns
 * the fd (O_CLOEXEC, nonblocking): a tunnel's, for the kernel data plane to hand to the kernel as a managed
 * tunnel, or without a peer a listener. The kernel adds the 4-octet zero Session ID of a control message on
 * send and strips it on receive (l2tp_ip_sendmsg, l2tp_ip_recv).
 */
export function l2tpIpSocket(options: L2tpIpSocketOptions): number {
  return addon().l2tpIpSocket(options);
}

/**
 * Reads frames from `fd` as it becomes readable (uv_poll): one read() per frame (at most 65535 bytes),
 * `onFrame` once per frame, in order. End of file or a read error ends the watch and goes to `onError`; so does
 * a datagram socket's pending ICMP error (ECONNREFUSED...), but that one leaves the watch `active`.
 * The watch does not own the fd: close it with closeFd(), which stops the watch first — never with fs.close()
 * while watched, since libuv could then poll whatever file next gets that number.
 */
export function watch(fd: number, onFrame: (frame: Buffer) => void, onError?: (err: NativeError) => void): Watch {
  const native = addon();
  return watchHandle(native, fd, native.watchStart(fd, onFrame, onError));
}

function watchHandle(native: NativeAddon, fd: number, id: number): Watch {
  return {
    fd,
    get active() {
      return native.watchActive(id);
    },
    close() {
      native.watchStop(id);
    },
  };
}

/**
 * watch() for an unconnected datagram socket (an L2TP/IP listener): each frame is read with recvfrom() and comes
 * with its sender's address (IPv4 or IPv6 text; undefined for other families). A non-socket fd: ENOTSOCK.
 */
export function watchFrom(fd: number, onFrame: (frame: Buffer, source: string | undefined) => void, onError?: (err: NativeError) => void): Watch {
  const native = addon();
  const id = native.watchStart(fd, onFrame, onError, true);
  return watchHandle(native, fd, id);
}

/**
 * watch() for a datagram socket, read with recvmmsg() up to 32 datagrams at a time: `onBatch(data, ends)` once per
 * batch, datagram i being data.subarray(ends[i - 1] ?? 0, ends[i]). Errors as for watch(). Not a datagram socket:
 * ENOTSOCK or EPROTOTYPE.
 */
export function watchBatch(fd: number, onBatch: (data: Buffer, ends: Uint32Array) => void, onError?: (err: NativeError) => void): Watch {
  const native = addon();
  return watchHandle(native, fd, native.watchBatchStart(fd, onBatch, onError));
}

/** One session's LCP keepalive in the addon (native/echo.c). */
export interface EchoEntryOptions {
  /** The tunnel's UDP socket (udpSocket), read by a watchBatch in this thread. */
  fd: number;
  /** How the peer's data messages name the session (our IDs). */
  localTunnelId: number;
  localSessionId: number;
  /** How ours name it to the peer. */
  peerTunnelId: number;
  peerSessionId: number;
  /** Our LCP Magic-Number. */
  magic: number;
  intervalMs: number;
  /** Unanswered Echo-Requests before the link is dead. */
  failures: number;
  /** The first Echo-Request after this long (default: the period, jittered). */
  firstMs?: number;
}

export interface EchoStats {
  entries: number;
  sent: number;
  sendErrors: number;
  replies: number;
  dead: number;
}

/** A keepalive in the addon: stop() removes it; idempotent, and harmless once the entry went dead. */
export interface EchoHandle {
  stop(): void;
}

/** This thread's live entries by addon id. The addon reuses the id of a removed entry. */
const echoEntries = new Map<number, { handle: EchoHandle; onDead: (() => void) | undefined }>();
let echoReady = false;

/**
 * Hands a session's keepalive to the addon: it sends the Echo-Requests (L2TPv2 data messages on `fd`, no Length, no
 * sequencing) and takes the Echo-Replies out of the socket's batches before JavaScript sees them. `onDead` runs once
 * `failures` requests in a row went unanswered; the entry is removed first. A handle acts only on its own entry,
 * never on a later one that was given the same id.
 */
export function echoAdd(options: EchoEntryOptions, onDead?: () => void): EchoHandle {
  const native = addon();
  if (!echoReady) {
    native.echoInit((ids) => {
      for (const id of ids) {
        const e = echoEntries.get(id);
        echoEntries.delete(id);
        native.echoRemove(id);
        e?.onDead?.();
      }
    });
    echoReady = true;
  }
  const id = native.echoAdd(options);
  const handle: EchoHandle = {
    stop: () => {
      if (echoEntries.get(id)?.handle !== handle) return;
      echoEntries.delete(id);
      native.echoRemove(id);
    },
  };
  echoEntries.set(id, { handle, onDead });
  return handle;
}

export function echoStats(): EchoStats {
  return addon().echoStats();
}

/** This thread's echo table counters, or undefined when no keepalive was ever handed to the addon here. */
export function echoStatsIfUsed(): EchoStats | undefined {
  return echoReady ? addon().echoStats() : undefined;
}

/** A datagram's sender, as watchBatchFrom reports it: SOURCE_WORDS words per datagram. */
export const SOURCE_WORDS = 6;

/**
 * watchBatch() for an unconnected datagram socket: `sources` holds each datagram's sender in SOURCE_WORDS words —
 * family (4, 6, 0 for other families), the address (IPv4: word 1 as a number, a.b.c.d = a·2²⁴+...; IPv6: words
 * 1–4, each four octets of the address as a big-endian number), the port in word 5. sourceText() makes the text.
 */
export function watchBatchFrom(fd: number, onBatch: (data: Buffer, ends: Uint32Array, sources: Uint32Array) => void, onError?: (err: NativeError) => void): Watch {
  const native = addon();
  return watchHandle(native, fd, native.watchBatchStart(fd, onBatch as (d: Buffer, e: Uint32Array, s?: Uint32Array) => void, onError, true));
}

/** The address text of datagram i's sender (watchBatchFrom), or undefined for a family other than IPv4/IPv6. */
export function sourceText(sources: Uint32Array, i: number): string | undefined {
  const at = i * SOURCE_WORDS;
  const family = sources[at];
  if (family === 4) {
    const a = sources[at + 1]!;
    return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
  }
  if (family !== 6) return undefined;
  const bytes = Buffer.allocUnsafe(16);
  for (let w = 0; w < 4; w++) bytes.writeUInt32BE(sources[at + 1 + w]!, w * 4);
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) groups.push(bytes.readUInt16BE(g * 2).toString(16));
  // The WHATWG serialiser compresses the longest run of zeros as inet_ntop does (IPv4-mapped addresses differ).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** connect() an unconnected UDP socket from udpSocket() to its peer, learned later. */
export function udpConnect(fd: number, address: string, port: number): void {
  addon().udpConnect(fd, address, port);
}

/**
 * One datagram with one sendmsg(), gathered from up to 8 parts; to `address`:`port` when given (an unconnected
 * socket), else to the connected peer. A full buffer throws NativeError code 'EAGAIN' (nothing sent).
 */
export function sendFrame(fd: number, frame: Uint8Array | readonly Uint8Array[], address?: string, port?: number): void {
  addon().sendFrame(fd, frame, address, port);
}

/**
 * A UDP socket bound to `localAddress:localPort` and connected to the peer (socket, optional SO_REUSEADDR and
 * buffer sizes, bind, connect), O_CLOEXEC and nonblocking. Bind and connect failures throw NativeError with the
 * errno name (EADDRINUSE, EADDRNOTAVAIL...); the fd is closed first.
 */
export function udpSocket(options: UdpSocketOptions): UdpSocketInfo {
  return addon().udpSocket(options);
}

/**
 * Writes one frame with one write(). A full socket buffer throws NativeError code 'EAGAIN' (nothing was
 * written): count it as a drop, as the kernel would.
 */
export function writeFrame(fd: number, frame: Uint8Array): void {
  addon().writeFrame(fd, frame);
}

/** Closes an fd from this module, stopping this thread's watches on it first. */
export function closeFd(fd: number): void {
  addon().closeFd(fd);
}

/** Test only: an AF_UNIX SOCK_SEQPACKET pair (nonblocking), which keeps frame boundaries like the real fds do. */
export function socketPair(): [number, number] {
  return addon().socketPair();
}
