/**
 * The emulated LACs' UDP sockets. With an automatic source port every tunnel has a socket of its own
 * (a distinct 5-tuple per LAC, as separate boxes would have); with a fixed port all tunnels from one
 * source address share one socket and are told apart by the Tunnel ID in the header (what xl2tpd
 * does with port 1701). Sockets are bound unconnected: the LNS may answer from another port (RFC
 * 2661 §8.1; l2tpd does for a second tunnel from the same address and port). A tunnel's own socket
 * is connected once the tunnel has learned that port (engine.ts `peerLearned`).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { sizeBuffers } from '../src/workers/sockets.js';

export type PacketSink = (buf: Buffer, rinfo: dgram.RemoteInfo) => void;

/** Large receive buffers so a burst of replies from a fast LNS is not dropped (capped by rmem_max). */
const BUFFER_BYTES = 4 << 20;

export class SocketBindError extends Error {
  override readonly name = 'SocketBindError';
  constructor(
    readonly address: string,
    readonly port: number,
    cause: Error,
  ) {
    const hint = /EADDRNOTAVAIL/.test(cause.message) ? ' (is the address configured on this host?)' : /EADDRINUSE/.test(cause.message) ? ' (is the port in use?)' : /EMFILE/.test(cause.message) ? ' (too many open files: raise ulimit -n, or share sockets with --source-port)' : '';
    super(`cannot bind a UDP socket to ${address}:${port}: ${cause.message}${hint}`);
  }
}

/**
 * Destinations are IP literals (checked by the options): answering dgram's per-send lookup at once
 * skips dns.lookup and a nextTick per packet, a third of the cost of a send measured here.
 */
const literal = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void): void =>
  // A colon is enough to tell the families apart here; net.isIPv6's regular expression cost 3% of a PPP run.
  cb(null, address, address.includes(':') ? 6 : 4);

export function openSocket(family: 4 | 6, address: string | undefined, port: number, sink: PacketSink, onError: (e: Error) => void): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: port !== 0, lookup: literal as never });
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => {
      try {
        sock.close();
      } catch {
        /* never bound */
      }
      reject(new SocketBindError(address ?? (family === 6 ? '::' : '0.0.0.0'), port, e));
    };
    sock.once('error', fail);
    sock.bind({ port, exclusive: true, ...(address !== undefined ? { address } : {}) }, () => {
      sock.off('error', fail);
      // Sends carry no callback (a closure and a nextTick per packet): their errors arrive here.
      sock.on('error', onError);
      sizeBuffers(sock, BUFFER_BYTES);
      sock.on('message', sink);
      resolve(sock);
    });
  });
}

export function closeSocket(sock: dgram.Socket): void {
  try {
    sock.close();
  } catch {
    /* already closed */
  }
}

export const familyOf = (address: string): 4 | 6 => (net.isIPv6(address) ? 6 : 4);
