/**
 * A PPP subscriber behind a LAC, in the test process: an in-process shard acting as LAC whose calls
 * carry the client side of our PPP engine. It dials any LNS (l2tpd here) over loopback UDP.
 */
import pino from 'pino';
import { DEFAULT_TUNNEL_OPTIONS } from '../../src/actors/options.js';
import { NullDataPlane } from '../../src/dataplane/null.js';
import type { AuthProtocolName } from '../../src/ppp/auth/types.js';
import { decodeControl, decodeFrame, PppCode, PppProtocol } from '../../src/ppp/frame.js';
import { pppPseudowire } from '../../src/ppp/l2tp-pseudowire.js';
import type { PppDownReason, PppUpInfo } from '../../src/ppp/types.js';
import { systemClock } from '../../src/transport/clock.js';
import { Shard } from '../../src/workers/shard.js';
import { UdpSocketFactory } from '../../src/workers/sockets.js';

export interface Subscriber {
  lac: Shard;
  ups: PppUpInfo[];
  downs: PppDownReason[];
  closed: string[];
  /** LCP Echo-Requests the LNS sent us, and Echo-Replies it gave to ours. */
  echoes: { requests: number; replies: number };
  /** While set, the LNS's Echo-Requests are counted but never reach the engine: nothing answers them. */
  deaf: boolean;
  dial(lns: { address: string; port: number }, local: string, callingNumber?: string): Promise<void>;
  stop(): Promise<void>;
}

export function subscriber(o: { user: string; password: string; auth: AuthProtocolName[]; echoIntervalMs?: number; echoFailures?: number }): Subscriber {
  const log = pino({ level: 'silent' });
  const opts = { ...DEFAULT_TUNNEL_OPTIONS, hostName: 'test-lac' };
  const ups: PppUpInfo[] = [];
  const downs: PppDownReason[] = [];
  const closed: string[] = [];
  const echoes = { requests: 0, replies: 0 };
  // The LAC's side of the call is "LNS-like" for our engine: it terminates the subscriber's PPP as client.
  const ppp = pppPseudowire({
    role: 'client',
    clock: systemClock,
    log,
    optionsFor: () => ({ auth: o.auth, credentials: { user: o.user, password: o.password }, echoIntervalMs: o.echoIntervalMs ?? 0, ...(o.echoFailures ? { echoFailures: o.echoFailures } : {}) }),
    onUp: (_s, info) => ups.push(info),
    onDown: (_s, r) => downs.push(r),
  });
  /** Counts LCP echoes; false when the frame is an Echo-Request to withhold (deaf). */
  const countEchoes = (frame: Buffer): boolean => {
    try {
      const { protocol, payload } = decodeFrame(frame);
      if (protocol !== PppProtocol.LCP) return true;
      const code = decodeControl(payload).code;
      if (code === PppCode.EchoRequest) {
        echoes.requests++;
        return !self.deaf;
      }
      if (code === PppCode.EchoReply) echoes.replies++;
    } catch {
      // the engine counts malformed frames itself
    }
    return true;
  };
  const pseudowire: typeof ppp = (pw) => {
    const h = ppp(pw);
    return h && { ...h, data: (frame) => void (countEchoes(frame) && h.data(frame)) };
  };
  const lac = new Shard({
    index: 0, count: 1, clock: systemClock, dataPlane: new NullDataPlane(), log, sockets: new UdpSocketFactory(),
    policy: { incoming: () => ({ accept: false, profile: 'default', options: opts, reason: 'a LAC' }), profile: () => opts },
    limits: { maxTunnels: 10, maxHalfOpenTunnels: 10 }, forward: () => undefined,
    pseudowire,
    events: { sessionClosed: (s) => closed.push(s.reason ?? 'closed') },
  });
  const self: Subscriber = {
    lac, ups, downs, closed, echoes, deaf: false,
    async dial(lns, local, callingNumber = '5550100') {
      const t = await lac.createTunnel({ peer: lns, local: { address: local, port: 0 }, profile: 'default' });
      const end = Date.now() + 10_000;
      while (lac.listTunnels()[0]?.state !== 'established') {
        if (Date.now() > end) throw new Error('the LNS did not establish the tunnel');
        await new Promise((r) => setTimeout(r, 10));
      }
      lac.createSession(t.tunnelId, 'lacIncoming', { callingNumber });
    },
    stop: () => lac.closeAll(500),
  };
  return self;
}
