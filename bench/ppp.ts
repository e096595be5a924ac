/**
 * The PPP engine on its own (issue 4): negotiations per second and the heap of an Opened session.
 *
 * - Rate: a client and a server PppEngine joined back to back in process (frames delivered in order
 *   from a microtask, see Link), LCP + authentication + IPCP with the real src/ppp/auth protocols, a
 *   LocalVerifier and an Ipv4Pool. Each negotiation gets a fresh VirtualClock that is never advanced:
 *   no retransmission ever fires, so only the protocol work is measured (and the clock's heap of
 *   cancelled timers is dropped with it). Timed: building both engines → both onUp; the teardown that
 *   gives the address back (lowerDown on both ends) is outside the timed part.
 * - Memory: N Opened server engines kept, their client ends dropped, heap after − before with
 *   `global.gc` (a child process started with --expose-gc, like the shard benchmark). The server ends
 *   share a clock that holds only their live timers and never fires them, so the per-session figure
 *   includes the session's armed timers (the LCP echo) but no test-clock bookkeeping. It also includes
 *   the little glue a session needs around its engine (here Link and Hooks, about 350 octets).
 *   Without --expose-gc the figure is a raw heapUsed delta (`gc: false`), good only for large N.
 *
 * Run alone: `npm run bench -- --only ppp`; the memory part alone: `node --expose-gc dist/bench/ppp.js --memory 20000`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Ipv4Pool } from '../src/aaa/pool/pools.js';
import { createAuthClient, createAuthServer, LocalVerifier } from '../src/ppp/auth/index.js';
import type { AuthProtocolName } from '../src/ppp/auth/types.js';
import { PppEngine } from '../src/ppp/engine.js';
import type { PppDownReason, PppRole, PppUpInfo } from '../src/ppp/types.js';
import { VirtualClock, type Clock, type TimerHandle } from '../src/transport/clock.js';

export interface PppRateResult {
  auth: AuthProtocolName;
  negotiations: number;
  negotiationsPerSec: number;
  usPerNegotiation: number;
  /** lowerDown on both ends (the address back to the pool), not included above. */
  usPerTeardown: number;
  /** Frames both ends sent per negotiation (LCP, auth, IPCP). */
  framesPerNegotiation: number;
}

export interface PppMemoryResult {
  auth: AuthProtocolName;
  sessions: number;
  /** Heap growth per Opened server session. */
  heapBytesPerSession: number;
  /** Whether the heap was measured after a full GC (--expose-gc) or as a raw heapUsed delta. */
  gc: boolean;
  /** Timers each Opened server session keeps armed. */
  liveTimersPerSession: number;
}

export interface PppBenchResult {
  rate: PppRateResult[];
  memory: PppMemoryResult;
}

const USER = 'subscriber-000001@isp.example';
const PASSWORD = 'correct horse battery staple';

/** Never fires; keeps only what is armed (a timer wheel holds no more than that). */
class HoldingClock implements Clock {
  readonly live = new Set<{ fn: () => void }>();
  now(): number {
    return 0;
  }
  setTimeout(fn: () => void, _ms: number): TimerHandle {
    const t = { fn };
    this.live.add(t);
    return t as unknown as TimerHandle;
  }
  clearTimeout(h: TimerHandle): void {
    this.live.delete(h as unknown as { fn: () => void });
  }
}

interface World {
  verifier: LocalVerifier;
  pool: Ipv4Pool;
}

function world(): World {
  return { verifier: new LocalVerifier({ [USER]: PASSWORD }), pool: new Ipv4Pool('bench', ['100.64.0.0/16']) };
}

interface Pair {
  server: PppEngine;
  client: PppEngine;
  up: PppUpInfo;
  /** Cut the link so that dropping the client frees it (the server's send no longer reaches it). */
  detach(): void;
}

/**
 * The link between the two ends: frames are delivered in order from a microtask, never from inside
 * the sending engine's call (as a network would). The engine queues frames that arrive while it is
 * inside receive(), but not while it is inside start() or finishing authentication: a frame handed
 * back synchronously from there is discarded, and with a clock that never fires the negotiation
 * would stall.
 */
class Link {
  private readonly queue: { to: PppEngine; frame: Buffer }[] = [];
  private scheduled = false;
  server: PppEngine | undefined;
  client: PppEngine | undefined;

  toServer = (frame: Buffer): void => this.push(this.server, frame);
  toClient = (frame: Buffer): void => this.push(this.client, frame);

  private push(to: PppEngine | undefined, frame: Buffer): void {
    if (!to) return;
    this.queue.push({ to, frame });
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    // Frames sent while draining join the queue and go out in this same loop.
    for (let i = 0; i < this.queue.length; i++) {
      const { to, frame } = this.queue[i]!;
      to.receive(frame);
    }
    this.queue.length = 0;
    this.scheduled = false;
  }
}

interface Hooks {
  up?: (side: PppRole, info: PppUpInfo) => void;
  down?: (side: PppRole, reason: PppDownReason) => void;
}

// The engines' callbacks are made here, apart from negotiate(), so that what a held server session
// keeps reachable is its Link and Hooks (cleared by detach), not the client or the promise.
function serverEngine(w: World, auth: AuthProtocolName, clock: Clock, link: Link, hooks: Hooks): PppEngine {
  return new PppEngine({
    role: 'server',
    clock,
    send: link.toClient,
    auth: [auth],
    authServer: createAuthServer,
    verifier: w.verifier,
    allocator: w.pool,
    localAddress: '100.127.255.254',
    dns: ['198.51.100.53', '198.51.100.54'],
    onUp: (i) => hooks.up?.('server', i),
    onDown: (r) => hooks.down?.('server', r),
  });
}

function clientEngine(auth: AuthProtocolName, link: Link, hooks: Hooks): PppEngine {
  return new PppEngine({
    role: 'client',
    clock: new VirtualClock(0),
    send: link.toServer,
    auth: [auth],
    authClient: createAuthClient,
    credentials: { user: USER, password: PASSWORD },
    onUp: (i) => hooks.up?.('client', i),
    onDown: (r) => hooks.down?.('client', r),
  });
}

/** One negotiation, client ⇄ server, to both onUp. Rejects if either end goes down instead. */
function negotiate(w: World, auth: AuthProtocolName, serverClock: Clock = new VirtualClock(0)): Promise<Pair> {
  const link = new Link();
  const hooks: Hooks = {};
  link.server = serverEngine(w, auth, serverClock, link, hooks);
  link.client = clientEngine(auth, link, hooks);
  return new Promise((resolve, reject) => {
    const server = link.server!;
    const client = link.client!;
    let serverUp: PppUpInfo | undefined;
    let clientUp = false;
    hooks.down = (side, r) => reject(new Error(`${auth}: ${side} went down: ${r.cause} (${r.message})`));
    hooks.up = (side, info) => {
      if (side === 'server') serverUp = info;
      else clientUp = true;
      if (!serverUp || !clientUp) return;
      resolve({
        server,
        client,
        up: serverUp,
        detach: () => {
          link.server = undefined;
          link.client = undefined;
          hooks.up = undefined;
          hooks.down = undefined;
        },
      });
    };
    server.start();
    client.start();
  });
}

function check(p: Pair, auth: AuthProtocolName): void {
  if (p.up.authProtocol !== auth || p.up.user !== USER || !p.up.address) throw new Error(`${auth}: unexpected onUp ${JSON.stringify(p.up)}`);
}

export async function negotiationRate(auth: AuthProtocolName, budgetMs: number): Promise<PppRateResult> {
  const w = world();
  const cycle = async (): Promise<{ ns: bigint; downNs: bigint; frames: number }> => {
    const t0 = process.hrtime.bigint();
    const p = await negotiate(w, auth);
    const t1 = process.hrtime.bigint();
    check(p, auth);
    const frames = p.server.counters.framesOut + p.client.counters.framesOut;
    p.detach(); // no onDown to the harness, nothing more on the link
    const t2 = process.hrtime.bigint();
    p.server.lowerDown();
    p.client.lowerDown();
    return { ns: t1 - t0, downNs: process.hrtime.bigint() - t2, frames };
  };
  for (let i = 0; i < 300; i++) await cycle(); // warm-up: let the JIT settle
  let n = 0;
  let ns = 0n;
  let downNs = 0n;
  let frames = 0;
  const deadline = process.hrtime.bigint() + BigInt(budgetMs) * 1_000_000n;
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 50; i++) {
      const r = await cycle();
      ns += r.ns;
      downNs += r.downNs;
      frames += r.frames;
      n++;
    }
  }
  if (w.pool.available !== w.pool.size) throw new Error(`${auth}: ${w.pool.size - w.pool.available} addresses not returned to the pool`);
  const nsPer = Number(ns) / n;
  const us = (x: number): number => Math.round(x / 100) / 10;
  return {
    auth,
    negotiations: n,
    negotiationsPerSec: Math.round(1e9 / nsPer),
    usPerNegotiation: us(nsPer),
    usPerTeardown: us(Number(downNs) / n),
    framesPerNegotiation: frames / n,
  };
}

/** N Opened server sessions held, client ends dropped; heap per session. Best run with --expose-gc. */
export async function memory(sessions: number, auth: AuthProtocolName = 'pap'): Promise<PppMemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const collect = (): void => {
    for (let i = 0; i < 3; i++) gc?.();
  };
  const w = world();
  const clock = new HoldingClock();
  // Warm-up outside the measurement: compiled code, shared tables, the pool's typed arrays.
  for (let i = 0; i < 300; i++) {
    const p = await negotiate(w, auth, clock);
    p.server.lowerDown();
    p.client.lowerDown();
  }
  if (clock.live.size !== 0) throw new Error(`${clock.live.size} timers left armed after teardown`);
  const held: PppEngine[] = [];
  collect();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < sessions; i++) {
    const p = await negotiate(w, auth, clock);
    check(p, auth);
    p.detach();
    // The client holds a Restart timer on the clock until it finishes: lowerDown finishes it silently.
    p.client.lowerDown();
    held.push(p.server);
  }
  collect();
  const after = process.memoryUsage().heapUsed;
  const opened = held.filter((e) => e.phase === 'opened').length;
  if (opened !== sessions) throw new Error(`only ${opened} of ${sessions} server sessions Opened`);
  return {
    auth,
    sessions,
    heapBytesPerSession: Math.round((after - before) / sessions),
    gc: gc !== undefined,
    liveTimersPerSession: clock.live.size / sessions,
  };
}

/** The memory part in its own process: a fresh heap, and --expose-gc for an exact before/after. */
function memoryInChild(sessions: number): PppMemoryResult {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', script, '--memory', String(sessions)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`ppp memory bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PppMemoryResult;
}

export async function runPppBench(): Promise<PppBenchResult> {
  const sessions = Number(process.env['BENCH_PPP_SESSIONS'] ?? 20_000);
  const auths = ['pap', 'chap', 'mschapv2'] as const;
  // The engine keeps getting faster for a few thousand negotiations (JIT): one discarded round of
  // every protocol first, or the first row measured pays for the JIT (measured: up to 1.6×).
  process.stderr.write('  ppp warm-up...\n');
  for (const auth of auths) await negotiationRate(auth, 500);
  const out: PppRateResult[] = [];
  for (const auth of auths) {
    process.stderr.write(`  ppp ${auth}...\n`);
    out.push(await negotiationRate(auth, 1200));
  }
  process.stderr.write(`  ppp memory, ${sessions} Opened server sessions...\n`);
  return { rate: out, memory: memoryInChild(sessions) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--memory');
  if (i < 0) throw new Error('usage: node --expose-gc dist/bench/ppp.js --memory N');
  memory(Number(process.argv[i + 1] ?? 20_000)).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exit(1);
    },
  );
}
