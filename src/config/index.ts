/**
 * The daemon's configuration: `loadConfig` at start and on SIGHUP, `diffConfig` to log what a reload
 * changed. docs/configuration.md is the operator's reference.
 */
export { Config } from './config.js';
export { ConfigError, UnknownProfileError, formatIssue } from './errors.js';
export type { ConfigIssue } from './errors.js';
export { loadConfig, parseConfig, BUILTIN_FILE, COMMAND_LINE } from './load.js';
export { diffConfig, formatDiff, RESTART_REQUIRED } from './diff.js';
export type { ConfigDiff, NamedChanges } from './diff.js';
export type { PeerIdentity } from './match.js';
export type { ProfileMaps } from './profiles.js';
export type { ConfigFile } from './schema.js';
export { parseDuration, formatDuration } from './duration.js';
export type * from './types.js';
