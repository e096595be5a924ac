/**
 * The emulated LACs' UDP sockets. With an automatic source port every tunnel has a socket of its own
 * (a distinct 5-tuple per LAC, as separate boxes would have); with a fixed port all tunnels from one
 * source address share one socket and are told apart by the Tunnel ID in the header (what xl2tpd
 * does with port 1701). Sockets are bound unconnected: the LNS may answer from another port (RFC
 * 2661 §8.1; l2tpd does for a second tunnel from the same address and port). A tunnel's own socket
 * is connected once the tunnel has learned that port (engine.ts `peerLearned`).
 *
 * Two implementations behind one face: the native addon's (recvmmsg batches with the senders, sendmsg with the
 * destination or to the connected peer; what l2tpd's tunnel sockets use) where it loads, else Node's dgram.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { closeFd, nativeAddonStatus, sendFrame, sourceText, SOURCE_WORDS, udpConnect, udpSocket, watchBatchFrom } from '../src/dataplane/kernel/native.js';
import { sizeBuffers } from '../src/workers/sockets.js';

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

export interface Sender {
  address: string;
  port: number;
}

export type PacketSink = (buf: Buffer, from: Sender) => void;

/** One emulated LAC socket. */
export interface LoadSocket {
  readonly local: Sender;
  /** Connected (peerLearned): sends go to the peer; else to `address`:`port`. */
  readonly connected: boolean;
  send(buf: Buffer | readonly Buffer[], port: number, address: string): void;
  /** Connects to the peer; false when it could not (sends stay unconnected, which works as before). */
  connect(port: number, address: string): boolean;
  close(): void;
}

export type SocketIo = 'auto' | 'native' | 'node';

/** Which implementation `io` means on this host (auto: native where the addon loads). */
export function resolveSocketIo(io: SocketIo): 'native' | 'node' {
  if (io === 'node') return 'node';
  const status = nativeAddonStatus();
  if (status.available) return 'native';
  if (io === 'native') throw new Error(`--socket-io native: the native addon does not load: ${status.reason}`);
  return 'node';
}

export function openSocket(family: 4 | 6, address: string | undefined, port: number, sink: PacketSink, onError: (e: Error) => void, io: 'native' | 'node' = 'node'): Promise<LoadSocket> {
  return io === 'native' ? openNative(family, address, port, sink, onError) : openDgram(family, address, port, sink, onError);
}

async function openNative(family: 4 | 6, address: string | undefined, port: number, sink: PacketSink, onError: (e: Error) => void): Promise<LoadSocket> {
  const localAddress = address ?? (family === 6 ? '::' : '0.0.0.0');
  let info;
  try {
    info = udpSocket({ localAddress, localPort: port, reuseAddr: port !== 0, bufferBytes: BUFFER_BYTES });
  } catch (e) {
    throw new SocketBindError(localAddress, port, e as Error);
  }
  const fd = info.fd;
  let open = true;
  let connected = false;
  // Replies come from a handful of LNS addresses: the last one's text is kept, not rebuilt per datagram.
  let lastWord = -1;
  let lastText = '';
  const sock: LoadSocket = {
    local: { address: info.address, port: info.port },
    get connected() {
      return connected;
    },
    send(buf, toPort, toAddress) {
      try {
        if (connected) sendFrame(fd, buf);
        else sendFrame(fd, buf, toAddress, toPort);
      } catch (e) {
        onError(e as Error);
      }
    },
    connect(toPort, toAddress) {
      try {
        udpConnect(fd, toAddress, toPort);
        connected = true;
      } catch {
        /* stays unconnected */
      }
      return connected;
    },
    close() {
      if (!open) return;
      open = false;
      closeFd(fd);
    },
  };
  try {
    watchBatchFrom(
      fd,
      (data, ends, sources) => {
        let start = 0;
        for (let i = 0; i < ends.length && open; i++) {
          const end = ends[i]!;
          const at = i * SOURCE_WORDS;
          let text: string | undefined;
          if (sources[at] === 4 && sources[at + 1] === lastWord) text = lastText;
          else {
            text = sourceText(sources, i);
            if (sources[at] === 4 && text !== undefined) {
              lastWord = sources[at + 1]!;
              lastText = text;
            }
          }
          if (text !== undefined) sink(data.subarray(start, end), { address: text, port: sources[at + 5]! });
          start = end;
        }
      },
      (e) => onError(e),
    );
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return sock;
}

function openDgram(family: 4 | 6, address: string | undefined, port: number, sink: PacketSink, onError: (e: Error) => void): Promise<LoadSocket> {
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
      sock.on('message', (buf, rinfo) => sink(buf, rinfo));
      const a = sock.address();
      let connected = false;
      resolve({
        local: { address: a.address, port: a.port },
        get connected() {
          return connected;
        },
        send(buf, toPort, toAddress) {
          if (connected) sock.send(buf as Buffer | Buffer[]);
          else sock.send(buf as Buffer | Buffer[], toPort, toAddress);
        },
        connect(toPort, toAddress) {
          try {
            // The lookup is synchronous (IP literals): the socket is connected when connect() returns, and from
            // then on dgram refuses a send that names a destination.
            sock.connect(toPort, toAddress);
            sock.remoteAddress();
            connected = true;
          } catch {
            /* stays unconnected: unconnected sends work as before */
          }
          return connected;
        },
        close() {
          try {
            sock.close();
          } catch {
            /* already closed */
          }
        },
      });
    });
  });
}

export function closeSocket(sock: LoadSocket): void {
  sock.close();
}

export const familyOf = (address: string): 4 | 6 => (net.isIPv6(address) ? 6 : 4);
