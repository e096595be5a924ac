/**
 * L2TPv3 over IP (RFC 3931 §4.1.1.2, IP protocol 115): the tunnel sockets and the listener, from the native addon
 * (Node cannot open IPPROTO_L2TP sockets). Kernel data plane only.
 *
 * - A tunnel's socket is bound to the local address and our Control Connection ID and connected to the peer: the
 *   kernel (l2tp_ip) hands it the control messages carrying that ID, and takes it over as the tunnel
 *   (L2TP_ATTR_ENCAP_TYPE IP + L2TP_ATTR_FD) once the tunnel is up; data messages never reach userspace.
 * - The listener is bound to connection ID 0 on each listen address, unconnected: SCCRQs arrive there, each read
 *   with its sender's address (recvfrom).
 * - On the wire a control message starts with a zero Session ID (4 octets); the kernel adds it on send and strips
 *   it on receive (l2tp_ip_sendmsg, l2tp_ip_recv). The codec works on the wire format (`transport: 'ip'`), so
 *   these sockets put the prefix back on what they read and take it off what they send.
 */
import net from 'node:net';
import { closeFd, l2tpIpSocket, watch, watchFrom, writeFrame } from '../dataplane/kernel/native.js';
import { expandListenAddress } from './listener.js';
import type { Endpoint, IpSocketFactory, PacketHandler, TunnelSocket } from './sockets.js';

const SESSION_ID_ZERO = 4;

/** What the kernel delivered, as it was on the wire. */
function withSessionIdZero(frame: Buffer): Buffer {
  const wire = Buffer.allocUnsafe(SESSION_ID_ZERO + frame.length);
  wire.writeUInt32BE(0, 0);
  frame.copy(wire, SESSION_ID_ZERO);
  return wire;
}

const family = (address: string): 4 | 6 => (net.isIPv6(address) ? 6 : 4);

export class L2tpIpSocketFactory implements IpSocketFactory {
  /** Sends the kernel refused (no route, a full buffer...): counted, never thrown, as for UDP. */
  sendErrors = 0;

  async open(local: string, peer: string, localConnId: number, onPacket: PacketHandler): Promise<TunnelSocket> {
    const fd = l2tpIpSocket({ family: family(peer), localAddress: local, localConnId, peerAddress: peer });
    let open = true;
    const ts: TunnelSocket = {
      local: { address: local, port: 0 },
      fd,
      send: (buf) => {
        // Only control messages: the kernel puts a zero Session ID in front of whatever is written, so a data
        // message (a userspace frame before the kernel holds its session) cannot leave here; PPP resends.
        if (buf.length < SESSION_ID_ZERO || buf.readUInt32BE(0) !== 0) {
          this.sendErrors++;
          return;
        }
        try {
          writeFrame(fd, buf.subarray(SESSION_ID_ZERO));
        } catch {
          this.sendErrors++;
        }
      },
      close: () => {
        if (!open) return;
        open = false;
        closeFd(fd); // stops the watch first; the kernel then deletes the tunnel it took over
      },
    };
    const from: Endpoint = { address: peer, port: 0 };
    // An ICMP error (the peer's l2tp_ip not loaded...) is reported while the watch goes on: retransmission decides.
    try {
      watch(fd, (frame) => onPacket(withSessionIdZero(frame), from, ts), () => undefined);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    return ts;
  }
}

export type IpListenerHandler = (buf: Buffer, from: Endpoint, to: Endpoint) => void;

/** `system.listen_ip`: where SCCRQs over IP arrive (main thread). */
export class L2tpIpListener {
  private readonly fds: number[] = [];
  readonly bound: string[] = [];

  constructor(private readonly onPacket: IpListenerHandler) {}

  listen(addresses: readonly string[]): void {
    for (const a of addresses) for (const address of expandListenAddress(a)) this.bindOne(address);
  }

  private bindOne(address: string): void {
    const fd = l2tpIpSocket({ family: family(address), localAddress: address, localConnId: 0 });
    const to: Endpoint = { address, port: 0 };
    try {
      watchFrom(
        fd,
        (frame, source) => {
          if (source !== undefined) this.onPacket(withSessionIdZero(frame), { address: source, port: 0 }, to);
        },
        () => undefined,
      );
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    this.fds.push(fd);
    this.bound.push(address);
  }

  close(): void {
    for (const fd of this.fds.splice(0)) closeFd(fd);
    this.bound.length = 0;
  }
}
