/** A ControlChannel wired to recording hooks on a VirtualClock, for unit tests. */
import { VirtualClock } from '../../../src/transport/clock.js';
import { ControlChannel } from '../../../src/transport/control-channel.js';
import type { ControlChannelConfig, ControlChannelState } from '../../../src/transport/control-channel-config.js';

export interface Tx {
  t: number;
  ns: number;
  nr: number;
  msg: string | null;
}

export interface Harness {
  ch: ControlChannel<string>;
  clock: VirtualClock;
  tx: Tx[];
  delivered: { msg: string; ns: number }[];
  deaths: { t: number; reason: string }[];
  idles: number[];
  /** Transmissions recorded since the last call. */
  take(): Tx[];
}

export interface HarnessOptions {
  clock?: VirtualClock;
  state?: ControlChannelState<string>;
  /** Called from the deliver hook (e.g. to reply synchronously). */
  onDeliver?: (h: Harness, msg: string, ns: number) => void;
  /** Called from the idle hook. */
  onIdle?: (h: Harness) => void;
  /** The channel's `answers` hook; absent: not given to the channel. */
  answers?: (msg: string) => boolean;
}

export function harness(config: ControlChannelConfig = {}, opts: HarnessOptions = {}): Harness {
  const clock = opts.clock ?? new VirtualClock();
  let mark = 0;
  const h = {
    clock,
    tx: [] as Tx[],
    delivered: [] as { msg: string; ns: number }[],
    deaths: [] as { t: number; reason: string }[],
    idles: [] as number[],
    take(): Tx[] {
      const out = h.tx.slice(mark);
      mark = h.tx.length;
      return out;
    },
  } as Harness;
  h.ch = new ControlChannel<string>(
    config,
    {
      transmit: (ns, nr, msg) => h.tx.push({ t: clock.now(), ns, nr, msg }),
      deliver: (msg, ns) => {
        h.delivered.push({ msg, ns });
        opts.onDeliver?.(h, msg, ns);
      },
      ...(opts.answers ? { answers: opts.answers } : {}),
      dead: (reason) => h.deaths.push({ t: clock.now(), reason }),
      idle: () => {
        h.idles.push(clock.now());
        opts.onIdle?.(h);
      },
    },
    clock,
    opts.state,
  );
  return h;
}

/** A fresh channel's state with Ns/Nr moved, e.g. to just before the 65535 → 0 wrap. */
export function stateAt(ns: number, nr: number, peerReceiveWindowSize = 4): ControlChannelState<string> {
  const s = harness({ helloIntervalMs: 0, peerReceiveWindowSize }).ch.snapshot();
  return { ...s, ns, nr, peerNr: ns };
}
