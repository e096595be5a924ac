/**
 * A PPP session in the kernel, seen from the worker that owns it (what pppd's pppol2tp plugin and
 * sys-linux.c do, for one session, without a process):
 *
 *   PPPoL2TP socket ── connect(tunnel fd, tunnel/session IDs) ── PPPIOCGCHAN → channel index
 *   /dev/ppp ── PPPIOCATTCHAN(index) → channel fd: LCP and authentication frames (protocol ≥ 0xc000
 *                                       always arrive here, ppp_generic's ppp_input)
 *   after IPCP: /dev/ppp ── PPPIOCNEWUNIT → unit fd + ppp<N>; PPPIOCCONNECT(channel, N); NCP frames
 *                                       (IPCP, IPv6CP) then arrive on the unit fd; IP stays in the kernel
 *
 * Frames read from /dev/ppp start at the Protocol field; frames written there must too (the kernel's
 * pppol2tp adds the 0xff 0x03 address and control). Closing the fds deletes the unit and the session.
 */
import type { Logger } from 'pino';
import type { DataPlane, PppInterfaceSpec, SessionLink } from '../types.js';
import { DataPlaneError } from '../types.js';
import * as native from './native.js';

export interface PppLinkSpec {
  tunnelFd: number;
  tunnelId: number;
  sessionId: number;
  peerTunnelId: number;
  peerSessionId: number;
  version: 2 | 3;
  ipv6: boolean;
}

export interface PppLinkStats {
  /** Frames the kernel would not take (EAGAIN/ENOBUFS on the channel): counted, dropped. */
  txDropped: number;
}

function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    native.closeFd(fd);
  } catch {
    /* already closed */
  }
}

/** Without the HDLC address and control octets: what /dev/ppp expects. */
export function stripAddressControl(frame: Buffer): Buffer {
  return frame.length >= 2 && frame[0] === 0xff && frame[1] === 0x03 ? frame.subarray(2) : frame;
}

export function openPppLink(spec: PppLinkSpec, onFrame: (frame: Buffer) => void, dataPlane: DataPlane, log: Logger, stats: PppLinkStats): SessionLink {
  const socketFd = native.pppol2tpConnect({
    tunnelFd: spec.tunnelFd,
    localTunnelId: spec.tunnelId,
    localSessionId: spec.sessionId,
    peerTunnelId: spec.peerTunnelId,
    peerSessionId: spec.peerSessionId,
    version: spec.version,
    ipv6: spec.ipv6,
  });
  let channelFd: number | undefined;
  let channelWatch: native.Watch | undefined;
  try {
    channelFd = native.pppOpenChannel(native.pppChannelIndex(socketFd));
    channelWatch = native.watch(channelFd, onFrame, (e: unknown) => log.warn({ err: String(e) }, 'ppp channel read failed'));
  } catch (e) {
    channelWatch?.close();
    closeQuietly(channelFd);
    closeQuietly(socketFd);
    throw e;
  }
  const chFd = channelFd;
  let unit: { fd: number; unit: number } | undefined;
  let unitWatch: native.Watch | undefined;
  let closed = false;
  const newUnit = (): { fd: number; unit: number } => {
    const u = native.pppNewUnit(-1);
    try {
      native.pppConnectChannel(chFd, u.unit);
      unitWatch = native.watch(u.fd, onFrame, (e: unknown) => log.warn({ err: String(e) }, 'ppp unit read failed'));
    } catch (e) {
      closeQuietly(u.fd);
      throw e;
    }
    return u;
  };

  return {
    transmit(payload) {
      if (closed) return;
      try {
        native.writeFrame(chFd, stripAddressControl(payload));
      } catch {
        stats.txDropped++;
      }
    },
    async networkUp(o: Omit<PppInterfaceSpec, 'unit'>) {
      if (closed) throw new DataPlaneError('session link closed', 'ppp interface');
      const up = dataPlane.pppInterfaceUp?.bind(dataPlane);
      if (!up) throw new DataPlaneError(`the ${dataPlane.kind} data plane has no PPP interfaces`, 'ppp interface');
      const u = unit ?? (unit = newUnit());
      return up({ unit: u.unit, ...o });
    },
    idleSeconds() {
      if (!unit || closed) return undefined;
      try {
        const i = native.pppGetIdle(unit.fd);
        return Math.min(i.xmitIdle, i.recvIdle);
      } catch {
        return undefined;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      unitWatch?.close();
      channelWatch?.close();
      closeQuietly(unit?.fd);
      closeQuietly(chFd);
      closeQuietly(socketFd);
    },
  };
}
