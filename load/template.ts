/**
 * What the worker threads compute from their options: names expanded per tunnel or subscriber, and
 * IPv4 addresses as numbers. Kept apart from options.ts so that a worker thread does not load the
 * option parser and its YAML library (40 ms of CPU at every worker's start).
 */

/** `{n}` in a --user/--password/--hostname template: the subscriber's or tunnel's number. */
export const expandTemplate = (template: string, n: number): string => template.replaceAll('{n}', String(n));

export const ipv4ToInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
export const intToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
