import { describe, expect, it } from 'vitest';
import type { Tunnel } from '../../src/actors/tunnel.js';
import { RecordKeeper } from '../../src/workers/shard-records.js';
import type { TunnelRecord } from '../../src/workers/thread-protocol.js';

/** Just what the keeper reads of a tunnel. */
function fakeTunnel(options: object) {
  const t = {
    state: 'established',
    options,
    record: (only?: Iterable<number>) => ({ data: {}, options: t.options, channel: {}, machine: {}, sessions: [...(only ?? [])].map((id) => ({ data: { localSessionId: id }, machine: { value: 'established' } })) }),
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
});
