/**
 * The `aaa` section: the local users file, RADIUS (authentication and accounting servers, client
 * timers, NAS identity) and the dynamic authorization (Disconnect/CoA) server, in the shapes the AAA
 * layer (src/aaa) takes. Which PPP profiles use which is checked in profiles.ts.
 */
import path from 'node:path';
import { DEFAULT_DYNAUTH_LISTEN, DEFAULT_RADIUS, DYNAUTH_PORT, RADIUS_ACCT_PORT } from './defaults.js';
import type { ConfigIssue } from './errors.js';
import { parseEndpoint } from './ip.js';
import type { Endpoint } from './ip.js';
import type { ConfigFile } from './schema.js';
import type { ConfigSource, KeyPath } from './source.js';
import type { AaaConfig, DynAuthConfig, RadiusConfig, RadiusServerConfig } from './types.js';

export function resolveAaa(file: ConfigFile, hostname: string, source: ConfigSource, issues: ConfigIssue[]): AaaConfig {
  const a = file.aaa ?? {};
  return {
    // Relative to the file that names it, as an include would be: the daemon's working directory is no anchor.
    localUsers: a.local_users === undefined ? null : path.resolve(path.dirname(source.file), a.local_users),
    radius: a.radius === undefined ? null : resolveRadius(a.radius, hostname, source, issues),
    dynamicAuthorization: a.dynamic_authorization === undefined ? null : resolveDynAuth(a.dynamic_authorization, source, issues),
  };
}

type RawRadius = NonNullable<NonNullable<ConfigFile['aaa']>['radius']>;
type RawDynAuth = NonNullable<NonNullable<ConfigFile['aaa']>['dynamic_authorization']>;

function resolveRadius(r: RawRadius, hostname: string, source: ConfigSource, issues: ConfigIssue[]): RadiusConfig {
  const at = (...rest: (string | number)[]): KeyPath => ['aaa', 'radius', 'servers', ...rest];
  once(r.servers.map((s) => `${s.address.address}|${s.address.port}`), (i, first) =>
    issues.push(source.issue(at(i, 'address'), `server ${show(r.servers[i]!.address)} is listed twice (first at line ${source.position(at(first, 'address')).line})`)),
  );
  const server = (e: Endpoint, secret: string): RadiusServerConfig => ({ host: e.address, port: e.port, secret });
  return {
    servers: r.servers.map((s) => server(s.address, s.secret)),
    accountingServers: r.servers.flatMap((s) => {
      const acct = s.accounting_address === undefined ? { ...s.address, port: RADIUS_ACCT_PORT } : s.accounting_address;
      return acct === null ? [] : [server(acct, s.secret)];
    }),
    timeoutMs: r.timeout ?? DEFAULT_RADIUS.timeout,
    retries: r.retries ?? DEFAULT_RADIUS.retries,
    deadTimeMs: r.dead_time ?? DEFAULT_RADIUS.dead_time,
    nasIdentifier: r.nas_identifier ?? hostname,
    nasIpAddress: r.nas_ip_address ?? null,
    interimIntervalMs: r.interim_interval ?? DEFAULT_RADIUS.interim_interval,
    requireMessageAuthenticator: r.require_message_authenticator ?? DEFAULT_RADIUS.require_message_authenticator,
  };
}

function resolveDynAuth(d: RawDynAuth, source: ConfigSource, issues: ConfigIssue[]): DynAuthConfig {
  const at = (...rest: (string | number)[]): KeyPath => ['aaa', 'dynamic_authorization', 'clients', ...rest];
  // The server keys clients by source address: a second entry would silently replace the first.
  once(d.clients.map((c) => c.address), (i, first) =>
    issues.push(source.issue(at(i, 'address'), `client "${d.clients[i]!.address}" is listed twice (first at line ${source.position(at(first, 'address')).line})`)),
  );
  return {
    listen: d.listen ?? (parseEndpoint(DEFAULT_DYNAUTH_LISTEN, DYNAUTH_PORT) as Endpoint),
    clients: d.clients.map((c) => ({ address: c.address, secret: c.secret })),
  };
}

function show(e: Endpoint): string {
  return `"${e.family === 6 ? `[${e.address}]` : e.address}:${e.port}"`;
}

/** Calls `report(index, firstIndex)` for every repeated value. */
function once(values: readonly string[], report: (i: number, first: number) => void): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else report(i, first);
  });
}
