/**
 * The listening sockets (`system.listen`): where SCCRQs arrive, and packets from peers that keep
 * sending to port 1701 when a tunnel answers from another port. Each address gets its own socket:
 * Node cannot tell which local address a datagram on a wildcard socket was sent to, and the tunnel
 * socket must be bound to exactly that address, so a wildcard is expanded to the host's addresses.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { sizeBuffers, type Endpoint } from './sockets.js';

export type ListenerHandler = (buf: Buffer, from: Endpoint, to: Endpoint) => void;

export function expandListenAddress(address: string): string[] {
  if (address !== '0.0.0.0' && address !== '::') return [address];
  const family = address === '::' ? 'IPv6' : 'IPv4';
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === family && !(family === 'IPv6' && a.scopeid)) out.push(a.address);
  }
  return out;
}

export class Listener {
  private readonly socks: dgram.Socket[] = [];
  readonly bound: Endpoint[] = [];
  /** The smallest receive buffer the kernel granted a listening socket (bytes), when a size was asked for. */
  receiveBuffer: number | undefined;

  constructor(
    private readonly onPacket: ListenerHandler,
    private readonly bufferBytes?: number,
  ) {}

  async listen(endpoints: Endpoint[]): Promise<void> {
    for (const ep of endpoints) {
      for (const address of expandListenAddress(ep.address)) await this.bindOne({ address, port: ep.port });
    }
  }

  private bindOne(ep: Endpoint): Promise<void> {
    const sock = dgram.createSocket({ type: net.isIPv6(ep.address) ? 'udp6' : 'udp4', reuseAddr: true });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: ep.address, port: ep.port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', () => undefined);
        if (this.bufferBytes !== undefined) {
          const granted = sizeBuffers(sock, this.bufferBytes);
          this.receiveBuffer = Math.min(this.receiveBuffer ?? granted, granted);
        }
        const local = sock.address();
        const to = { address: local.address, port: local.port };
        this.bound.push(to);
        sock.on('message', (buf, r) => this.onPacket(buf, { address: r.address, port: r.port }, to));
        this.socks.push(sock);
        resolve();
      });
    });
  }

  close(): void {
    for (const s of this.socks) s.close();
    this.socks.length = 0;
  }
}
