/**
 * system.socket_buffer: the listening socket and every tunnel's socket get the receive and send buffer
 * asked for (as far as net.core.rmem_max allows), seen from outside with `ss`; asking for more than the
 * kernel allows is said at start.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TunnelInfo } from '../../src/workers/views.js';
import { daemonsPerTest, until } from '../support/daemon.js';
import { ensureDebianPackages } from '../support/sysdeps.js';

const daemons = daemonsPerTest();
const daemon = daemons.start;

let ssBin = 'ss';
/** Kernel receive/send buffer (sk_rcvbuf / sk_sndbuf: twice the payload bytes granted) of UDP sockets bound to `local`. */
function buffers(local: string): { peer: string; rb: number; tb: number }[] {
  const out = execFileSync(ssBin, ['-uamnH', `src ${local}`], { encoding: 'utf8' });
  const rows: { peer: string; rb: number; tb: number }[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!.trim().split(/\s+/);
    const mem = /rb(\d+),t\d+,tb(\d+)/.exec(lines[i + 1] ?? '');
    if (head.length >= 5 && mem) rows.push({ peer: head[4]!, rb: Number(mem[1]), tb: Number(mem[2]) });
  }
  return rows;
}

describe('system.socket_buffer', () => {
  it('sizes the listening socket and each tunnel socket; more than the kernel allows is a warning', async () => {
    const { ss } = await ensureDebianPackages([{ bin: 'ss', pkg: 'iproute2' }]);
    ssBin = ss!;
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    const asked = 1 << 20;
    const lns = await daemon('127.0.176.1:1701', `system:\n  socket_buffer: ${asked}\n`);
    const lac = await daemon('127.0.176.2:1701', 'system:\n  socket_buffer: 65536\n');
    const t = await lac.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.176.1', '--local', '127.0.176.2');
    await until(async () => (await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).state === 'established' || undefined, 10_000, 'tunnel');

    const rows = buffers('127.0.176.1:1701');
    const listening = rows.find((r) => r.peer === '*:*' || r.peer === '0.0.0.0:*');
    const tunnel = rows.find((r) => r.peer.startsWith('127.0.176.2:'));
    expect(listening, JSON.stringify(rows)).toBeDefined();
    expect(tunnel, JSON.stringify(rows)).toBeDefined();
    for (const r of [listening!, tunnel!]) {
      expect(r.rb).toBe(2 * Math.min(asked, rmemMax));
      expect(r.tb).toBe(2 * Math.min(asked, wmemMax));
    }
    // The LAC asked for 64 KiB: its tunnel socket has exactly that, not the LNS's size or the default.
    expect(buffers('127.0.176.2').find((r) => r.peer.startsWith('127.0.176.1:'))?.rb).toBe(2 * Math.min(65536, rmemMax));
    expect(lns.logLines().some((l) => String(l['msg']).startsWith('UDP socket buffers are smaller'))).toBe(asked > rmemMax);

    const big = await daemon('127.0.176.3:1701', `system:\n  socket_buffer: ${2 ** 30}\n`);
    const warn = big.logLines().find((l) => String(l['msg']).startsWith('UDP socket buffers are smaller'));
    expect(warn).toMatchObject({ level: 40, asked: 2 ** 30, granted: rmemMax });
    expect(String(warn!['msg'])).toMatch(/net\.core\.rmem_max/);
  });

  it('refuses a size out of range, naming the key', async () => {
    const { parseConfig } = await import('../../src/config/index.js');
    expect(() => parseConfig('system:\n  socket_buffer: 1000\n', 'l2tpd.yaml')).toThrow(/system\.socket_buffer/);
    expect(parseConfig('', 'l2tpd.yaml').system.socketBuffer).toBe(4 * 1024 * 1024);
  });
});

describe('system.socket_io', () => {
  it('native where the addon loads (auto), dgram when asked: tunnels come up either way, and the log says which', async () => {
    const lns = await daemon('127.0.176.4:1701', 'system:\n  socket_io: node\n');
    const lac = await daemon('127.0.176.5:1701', '');
    const t = await lac.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.176.4', '--local', '127.0.176.5');
    await until(async () => (await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).state === 'established' || undefined, 10_000, 'tunnel');
    const said = (d: typeof lns) => d.logLines().find((l) => String(l['msg']).startsWith('tunnel sockets:'));
    await until(() => (said(lns) && said(lac)) || undefined, 5_000, 'the socket log lines');
    expect(said(lns)).toMatchObject({ msg: 'tunnel sockets: node dgram', reason: 'configured' });
    expect(said(lac)).toMatchObject({ msg: 'tunnel sockets: native (recvmmsg batches)' });
  });

  it('refuses an unknown value, naming the key', async () => {
    const { parseConfig } = await import('../../src/config/index.js');
    expect(() => parseConfig('system:\n  socket_io: fast\n', 'l2tpd.yaml')).toThrow(/system\.socket_io/);
    expect(parseConfig('', 'l2tpd.yaml').system.socketIo).toBe('auto');
    expect(parseConfig('system:\n  socket_io: native\n', 'l2tpd.yaml').system.socketIo).toBe('native');
  });
});
