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
