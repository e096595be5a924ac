/**
 * Per-tunnel UDP sockets (DESIGN.md "Sockets"): each tunnel gets a socket bound to the local
 * address and connected to the peer, so the kernel hands that peer's packets straight to the
 * owning worker (and, with the kernel data plane, can take the socket over by fd).
 *
 * The socket shares the listener's port (SO_REUSEADDR; Linux prefers the connected socket for its
 * peer). When the peer's address and port already have a connected socket here (LACs such as
 * xl2tpd use one source port for all their tunnels), the new tunnel answers from an ephemeral port
 * instead, as RFC 2661 §8.1 allows.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { closeFd, echoAdd, nativeAddonStatus, udpSocket, watchBatch, writeFrame, type EchoEntryOptions, type EchoHandle } from '../dataplane/kernel/native.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface TunnelSocket {
  readonly local: Endpoint;
  send(buf: Buffer): void;
  close(): void;
  /** The OS file descriptor (for handing a managed tunnel to the kernel), when known. */
  readonly fd: number | undefined;
  /** Native sockets: LCP keepalives run in the addon for sessions carried on this socket (TunnelEcho). */
  readonly echo?: TunnelEcho;
}

/** One session's LCP keepalive on a tunnel socket, sent and answered without JavaScript (native/echo.c). */
export interface TunnelEcho {
  /** The entry as echoAdd takes it (this socket's fd is added), and who hears that the peer went silent. */
  add(o: Omit<EchoEntryOptions, 'fd'> & { dead(): void }): EchoHandle;
}

export type PacketHandler = (buf: Buffer, from: Endpoint, via: TunnelSocket) => void;

/**
 * Asks for `bytes` of receive and send buffer on a bound socket (`system.socket_buffer`): the default
 * (~208 KB) holds only a few hundred datagrams, and a burst of set-ups or echoes beyond it is dropped by
 * the kernel before we see it. Returns the receive buffer the kernel granted (it caps the request at
 * net.core.rmem_max; Linux reports twice what it grants for payload, halved here).
 */
export function sizeBuffers(sock: dgram.Socket, bytes: number): number {
  try {
    sock.setRecvBufferSize(bytes);
    sock.setSendBufferSize(bytes);
  } catch {
    /* the kernel keeps its limit: reported below */
  }
  try {
    return Math.floor(sock.getRecvBufferSize() / 2);
  } catch {
    return 0;
  }
}

export interface SocketFactory {
  open(local: Endpoint, peer: Endpoint, onPacket: PacketHandler): Promise<TunnelSocket>;
}

/**
 * L2TPv3 over IP (kernel data plane, l2tp-ip.ts): a tunnel's socket bound to the local address and our Control
 * Connection ID, connected to the peer. Its packets come as on the wire (with the zero Session ID); ports are 0.
 */
export interface IpSocketFactory {
  open(local: string, peer: string, localConnId: number, onPacket: PacketHandler): Promise<TunnelSocket>;
}

/** Real UDP sockets. Send errors (ICMP unreachable surfacing as ECONNREFUSED) are counted, never thrown. */
export class UdpSocketFactory implements SocketFactory {
  sendErrors = 0;

  /** `bufferBytes`: see sizeBuffers (undefined: the kernel's default). */
  constructor(private readonly bufferBytes?: number) {}

  open(local: Endpoint, peer: Endpoint, onPacket: PacketHandler): Promise<TunnelSocket> {
    const type = net.isIPv6(local.address) ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type, reuseAddr: true });
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        sock.close();
        reject(e);
      };
      sock.once('error', fail);
      sock.bind({ address: local.address, port: local.port, exclusive: true }, () => {
        sock.connect(peer.port, peer.address, () => {
          sock.off('error', fail);
          if (this.bufferBytes !== undefined) sizeBuffers(sock, this.bufferBytes);
          sock.on('error', () => {
            this.sendErrors++;
          });
          const addr = sock.address();
          const ts: TunnelSocket = {
            local: { address: addr.address, port: addr.port },
            // Only the kernel data plane asks. dgram has no public fd; its _handle getter is deprecated
            // (DEP0112) and would print a warning to operators on every start: read it quietly.
            get fd() {
              const quiet = process.noDeprecation;
              process.noDeprecation = true;
              try {
                return (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
              } finally {
                process.noDeprecation = quiet;
              }
            },
            // No callback: dgram would queue one nextTick and a closure per datagram (1.5% of a shard at full set-up
            // rate); without one, a failed send is emitted as 'error' and counted above.
            send: (buf) => sock.send(buf),
            close: () => {
              try {
                sock.close();
              } catch {
                /* already closed */
              }
            },
          };
          sock.on('message', (buf, rinfo) => onPacket(buf, { address: rinfo.address, port: rinfo.port }, ts));
          resolve(ts);
        });
      });
    });
  }
}

/**
 * Tunnel sockets from the native addon (native/udp.c): socket, bind and connect as above, read with recvmmsg() in
 * batches of up to 32 datagrams, one JavaScript call per batch, and written with one write() each. dgram spends a
 * JavaScript event, an rinfo object and a Buffer per datagram and a send request per send: measured on loopback,
 * a datagram sent and received costs 11.4 µs of CPU through dgram and 6.1 µs through these (`npm run bench -- --only
 * socket-io`, docs/benchmarks.md).
 * A connected socket hears only its peer, so every packet is from `peer`.
 */
export class NativeUdpSocketFactory implements SocketFactory {
  /** Writes the kernel refused (a full buffer, an ICMP error surfacing on the socket): counted, never thrown. */
  sendErrors = 0;
  /** ICMP errors reported on read (ECONNREFUSED...): the socket goes on; retransmission decides. */
  receiveErrors = 0;

  constructor(private readonly bufferBytes?: number) {}

  async open(local: Endpoint, peer: Endpoint, onPacket: PacketHandler): Promise<TunnelSocket> {
    const info = udpSocket({
      localAddress: local.address,
      localPort: local.port,
      peerAddress: peer.address,
      peerPort: peer.port,
      reuseAddr: true,
      ...(this.bufferBytes !== undefined ? { bufferBytes: this.bufferBytes } : {}),
    });
    const fd = info.fd;
    let open = true;
    /** This socket's keepalive entries: gone with it, before its fd number can name another socket. */
    const echoes = new Set<EchoHandle>();
    const ts: TunnelSocket = {
      local: { address: info.address, port: info.port },
      fd,
      send: (buf) => {
        try {
          writeFrame(fd, buf);
        } catch {
          this.sendErrors++;
        }
      },
      close: () => {
        if (!open) return;
        open = false;
        for (const e of [...echoes]) e.stop();
        closeFd(fd); // stops the watch first
      },
      echo: {
        add: ({ dead, ...o }) => {
          const h: EchoHandle = echoAdd({ fd, ...o }, () => {
            echoes.delete(h);
            dead();
          });
          echoes.add(h);
          return {
            stop: () => {
              echoes.delete(h);
              h.stop();
            },
          };
        },
      },
    };
    const from: Endpoint = Object.freeze({ address: peer.address, port: peer.port });
    try {
      watchBatch(
        fd,
        (data, ends) => {
          let start = 0;
          for (let i = 0; i < ends.length && open; i++) {
            const end = ends[i]!;
            onPacket(data.subarray(start, end), from, ts);
            start = end;
          }
        },
        () => {
          this.receiveErrors++;
        },
      );
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    return ts;
  }
}

/**
 * The tunnel socket factory for this host: native (NativeUdpSocketFactory) where the addon loads, else dgram.
 * `kind` says which, for the worker's start-up log line.
 */
export function tunnelSocketFactory(bufferBytes: number | undefined, prefer: 'auto' | 'native' | 'node' = 'auto'): { factory: SocketFactory & { sendErrors: number }; kind: 'native' | 'node'; reason?: string } {
  if (prefer !== 'node') {
    const status = nativeAddonStatus();
    if (status.available) return { factory: new NativeUdpSocketFactory(bufferBytes), kind: 'native' };
    if (prefer === 'native') throw new Error(`native tunnel sockets asked for, but the addon does not load: ${status.reason}`);
    return { factory: new UdpSocketFactory(bufferBytes), kind: 'node', reason: status.reason };
  }
  return { factory: new UdpSocketFactory(bufferBytes), kind: 'node', reason: 'configured' };
}
