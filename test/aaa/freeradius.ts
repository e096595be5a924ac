/**
 * A private FreeRADIUS 3.2 for a test (reference/peers.md): Debian's /etc/freeradius/3.0 copied into a
 * temporary directory, logs/run/accounting under it, our own virtual server listening on 127.0.0.1 on
 * free ports (so test files can run in parallel), test users prepended to the `files` module.
 *
 * Changes to the stock configuration, and why:
 * - `user`/`group` removed: the server stays root (the copy lives in a 0700 temp directory freerad cannot enter).
 * - `reject_delay = 0`, `proxy_requests = no`: rejects answer at once; nothing is proxied.
 * - sites-enabled holds only `l2tpd-test` (auth + acct listeners, PAP/CHAP/MS-CHAP, detail accounting):
 *   the stock `default` binds every address on 1812/1813 and `inner-tunnel` a fixed port 18120, either
 *   of which collides with a parallel instance.
 * - mods-enabled/eap removed: it needs TLS certificates and the inner-tunnel server; PPP here has no EAP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findExecutable } from '../support/sysdeps.js';
import { runTool } from '../support/run.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

export interface RadiusUser {
  user: string;
  password: string;
  /** Reply items in users-file syntax, e.g. `Framed-IP-Address = 198.18.1.77`. */
  reply?: string[];
}

export interface FreeRadius {
  raddb: string;
  authPort: number;
  acctPort: number;
  secret: string;
  pid: number;
  /** Everything `freeradius -X` printed so far. */
  log(): string;
  /** Concatenated detail files (accounting records as FreeRADIUS wrote them). */
  detail(): string;
  stop(): Promise<void>;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function siteConfig(authPort: number, acctPort: number): string {
  return `server l2tpd-test {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${authPort}
  }
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = ${acctPort}
  }
  authorize {
    preprocess
    chap
    mschap
    files
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
    Auth-Type CHAP {
      chap
    }
    Auth-Type MS-CHAP {
      mschap
    }
  }
  preacct {
    preprocess
    acct_unique
  }
  accounting {
    detail
    ok
  }
  post-auth {
    Post-Auth-Type REJECT {
      attr_filter.access_reject
    }
  }
}
`;
}

function usersEntries(users: readonly RadiusUser[]): string {
  return users
    .map((u) => {
      const reply = (u.reply ?? []).map((r) => `\t${r}`).join(',\n');
      return `${u.user}\tCleartext-Password := "${u.password}"\n${reply}\n`;
    })
    .join('\n');
}

export async function startFreeRadius(users: readonly RadiusUser[]): Promise<FreeRadius> {
  const bin = findExecutable('freeradius');
  if (bin === undefined) throw new Error('freeradius is not installed (test/support/global-setup.ts installs it)');
  const tmp: TempDir = await makeTempDir('l2tpd-freeradius-');
  const raddb = tmp.file('raddb');
  await runTool('cp', ['-a', '/etc/freeradius/3.0', raddb]);
  const [authPort, acctPort] = [await freeUdpPort(), await freeUdpPort()];

  const conf = path.join(raddb, 'radiusd.conf');
  let radiusd = readFileSync(conf, 'utf8');
  const set = (key: string, value: string): void => {
    const re = new RegExp(`^(\\s*)${key}\\s*=.*$`, 'm');
    if (!re.test(radiusd)) throw new Error(`radiusd.conf has no "${key}" to set`);
    radiusd = radiusd.replace(re, `$1${key} = ${value}`);
  };
  set('raddbdir', raddb);
  set('logdir', tmp.file('log'));
  set('run_dir', tmp.file('run'));
  set('reject_delay', '0');
  set('proxy_requests', 'no');
  radiusd = radiusd.replace(/^\s*(user|group)\s*=\s*freerad\s*$/gm, '');
  writeFileSync(conf, radiusd);
  for (const site of readdirSync(path.join(raddb, 'sites-enabled'))) rmSync(path.join(raddb, 'sites-enabled', site));
  writeFileSync(path.join(raddb, 'sites-enabled', 'l2tpd-test'), siteConfig(authPort, acctPort));
  rmSync(path.join(raddb, 'mods-enabled', 'eap'), { force: true });
  const authorize = path.join(raddb, 'mods-config', 'files', 'authorize');
  writeFileSync(authorize, usersEntries(users) + '\n' + readFileSync(authorize, 'utf8'));
  for (const d of ['log', 'run']) await runTool('mkdir', ['-p', tmp.file(d)]);

  const logFile = tmp.file('freeradius.out');
  writeFileSync(logFile, '');
  const child: ChildProcess = spawn(bin, ['-X', '-d', raddb], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output += d.toString();
    appendFileSync(logFile, d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`freeradius not ready in 20 s:\n${output.slice(-3000)}`)), 20_000);
    const check = setInterval(() => {
      if (output.includes('Ready to process requests')) {
        clearInterval(check);
        clearTimeout(deadline);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(deadline);
      reject(new Error(`freeradius exited with ${code} before it was ready:\n${output.slice(-3000)}`));
    });
  });

  const radacct = tmp.file('log/radacct');
  return {
    raddb,
    authPort,
    acctPort,
    secret: 'testing123',
    pid: child.pid!,
    log: () => output,
    detail: () => {
      if (!existsSync(radacct)) return '';
      let all = '';
      for (const client of readdirSync(radacct)) {
        for (const f of readdirSync(path.join(radacct, client))) all += readFileSync(path.join(radacct, client, f), 'utf8');
      }
      return all;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
        await exited;
      }
      await tmp.cleanup();
    },
  };
}
