/**
 * The shipped examples run as shipped (only the listen address and management socket overridden, as
 * a test must): examples/lac.yaml's persistent tunnel and call reach examples/lns.yaml. When the LNS
 * goes away and comes back, the LAC re-establishes the tunnel with its call. SIGHUP and `l2tpctl
 * reload` apply a new file without dropping the session, and a bad file is refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionInfo, TunnelInfo } from '../../src/workers/views.js';
import { startDaemon, until, type DaemonProc } from '../support/daemon.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LNS_YAML = readFileSync(path.join(ROOT, 'examples/lns.yaml'), 'utf8');
const LAC_YAML = readFileSync(path.join(ROOT, 'examples/lac.yaml'), 'utf8');

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});
async function start(config: string, listen?: string): Promise<DaemonProc> {
  const d = await startDaemon({ config, ...(listen ? { listen } : {}), extraArgs: ['--dataplane', 'null'] });
  stops.push(() => d.stop());
  return d;
}
const sessionsUp = async (d: DaemonProc) => (await d.json<SessionInfo[]>('show', 'sessions')).filter((s) => s.state === 'established');

describe('shipped examples, persistent tunnels, reload', () => {
  it('lac.yaml reaches lns.yaml with its call; the tunnel comes back after the LNS restarts; reload keeps the session', async () => {
    let lns = await start(LNS_YAML, '127.0.0.2:1701');
    const lac = await start(LAC_YAML);
    const [s] = await until(async () => ((await sessionsUp(lns)).length === 1 ? sessionsUp(lns) : undefined), 15_000, 'the example call');
    expect(s).toMatchObject({ callType: 'lnsIncoming', callingNumber: '5550100', calledNumber: '5550199' });
    const t = (await lns.json<TunnelInfo[]>('show', 'tunnels'))[0]!;
    expect(t).toMatchObject({ peerHostName: 'lac1', profile: 'lacs', state: 'established' });
    expect((await lac.json<TunnelInfo[]>('show', 'tunnels'))[0]).toMatchObject({ name: 'to-lns1', persistent: true, peerHostName: 'lns1' });

    // Reload with a changed file: the running session stays; the answer names what changed.
    const file = lns.dir.file('l2tpd.yaml');
    writeFileSync(file, LNS_YAML.replace('hello_interval: 30s', 'hello_interval: 20s'));
    const reload = await lns.json<{ changed: string[] }>('reload');
    expect(reload.changed.join('\n')).toMatch(/bras/);
    expect(await sessionsUp(lns)).toHaveLength(1);
    // SIGHUP with a broken file: refused with file:line, nothing changes.
    writeFileSync(file, `${LNS_YAML}\ntunnel_profiles_typo: {}\n`);
    lns.proc.kill('SIGHUP');
    await until(() => lns.logLines().find((l) => l['msg'] === 'configuration reload refused; the running configuration is unchanged'), 5000, 'refusal');
    expect(String(lns.logLines().find((l) => l['msg']?.toString().startsWith('configuration reload refused'))?.['err'])).toMatch(/l2tpd\.yaml:\d+:\d+/);
    expect(await sessionsUp(lns)).toHaveLength(1);
    const bad = await lns.ctl('reload');
    expect(bad.code).toBe(1);
    writeFileSync(file, LNS_YAML);

    // The LNS goes away (StopCCN) and comes back: the persistent tunnel and its call return by themselves.
    await lns.stop(); // (stopping it again in afterEach is harmless)
    await until(async () => (await lac.json<TunnelInfo[]>('show', 'tunnels')).every((x) => x.state !== 'established') || undefined, 10_000, 'LAC to notice');
    lns = await start(LNS_YAML, '127.0.0.2:1701');
    const back = await until(async () => ((await sessionsUp(lns)).length === 1 ? sessionsUp(lns) : undefined), 20_000, 'persistent tunnel to come back');
    expect(back[0]).toMatchObject({ callingNumber: '5550100' });
    expect(lac.logLines().some((l) => l['msg'] === 'persistent tunnel: re-establishing')).toBe(true);
  });
});
