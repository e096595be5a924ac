import { describe, expect, it } from 'vitest';
import type { Tunnel } from '../../src/actors/tunnel.js';
import { RecordKeeper } from '../../src/workers/shard-records.js';
import type { TunnelRecord } from '../../src/workers/thread-protocol.js';
import { harness, stateAt } from '../transport/support/harness.js';

/** Just what the keeper reads of a tunnel; its control channel is a real one (open window: sends go out at once). */
function fakeTunnel(options: object) {
  const channel = harness({ helloIntervalMs: 0, peerReceiveWindowSize: 16 }, { state: { ...stateAt(0, 0, 16), cwnd: 16, ssthresh: 16 } }).ch;
  const t = {
    state: 'established',
    options,
    channel,
    record: (only?: Iterable<number>) => ({ data: {}, options: t.options, channel: t.channel.snapshot(), machine: {}, sessions: [...(only ?? [])].map((id) => ({ data: { localSessionId: id }, machine: { value: 'established' } })) }),
  };
  return t;
}

describe('RecordKeeper', () => {
  it("sends a tunnel's options in its first delta, then only when the tunnel replaces them, and again for a new tunnel of the same ID", () => {
    const tunnels = new Map<number, ReturnType<typeof fakeTunnel>>();
    const sent: { upserts: TunnelRecord[]; deletes: number[] }[] = [];
    const keeper = new RecordKeeper(tunnels as unknown as Map<number, Tunnel>, (upserts, deletes) => sent.push({ upserts, deletes }), 1_000_000);
    const t = fakeTunnel({ version: 3 });
    tunnels.set(7, t);
    const flush = () => {
      keeper.flush();
      return sent.at(-1)!;
    };

    keeper.sessionChanged(7, 1);
    expect(flush().upserts).toEqual([expect.objectContaining({ localTunnelId: 7, options: { version: 3 }, partial: true })]);
    keeper.sessionChanged(7, 2);
    const second = flush().upserts[0]!;
    expect('options' in second).toBe(false);
    expect(second.sessions).toEqual([{ data: { localSessionId: 2 }, machine: { value: 'established' } }]);

    t.options = { version: 2 }; // replaced (the L2TPv2 fallback does this)
    keeper.changed(7);
    expect(flush().upserts[0]!.options).toEqual({ version: 2 });

    keeper.gone(7);
    tunnels.set(7, fakeTunnel(t.options)); // the same options object, but a new tunnel under the ID
    keeper.changed(7);
    expect(flush()).toMatchObject({ deletes: [7], upserts: [{ localTunnelId: 7, options: { version: 2 } }] });
    keeper.changed(7);
    expect('options' in flush().upserts[0]!).toBe(false);
  });

  it("sends a channel's unacknowledged messages once, and all of them again for a replaced channel or a new tunnel of the same ID", () => {
    const tunnels = new Map<number, ReturnType<typeof fakeTunnel>>();
    const sent: TunnelRecord[][] = [];
    const keeper = new RecordKeeper(tunnels as unknown as Map<number, Tunnel>, (upserts) => sent.push(upserts), 1_000_000);
    const t = fakeTunnel({});
    tunnels.set(7, t);
    const unackedSent = () => {
      keeper.changed(7);
      keeper.flush();
      return (sent.at(-1)![0]!.channel as { unacked: { msg: string }[] }).unacked.map((e) => e.msg);
    };
    t.channel.send('a');
    t.channel.send('b');
    expect(unackedSent()).toEqual(['a', 'b']);
    t.channel.send('c');
    expect(unackedSent()).toEqual(['c']);
    expect(sent.at(-1)![0]!.channel).toMatchObject({ unackedKept: 2 });

    t.channel = fakeTunnel({}).channel; // replaced (the L2TPv2 fallback starts a new channel)
    t.channel.send('v2');
    expect(unackedSent()).toEqual(['v2']);
    expect(sent.at(-1)![0]!.channel).not.toHaveProperty('unackedKept');

    keeper.gone(7);
    const again = fakeTunnel({});
    again.channel = t.channel; // the same channel object under a new tunnel: still sent whole
    tunnels.set(7, again);
    expect(unackedSent()).toEqual(['v2']);
    expect(sent.at(-1)![0]!.channel).not.toHaveProperty('unackedKept');
  });
});
