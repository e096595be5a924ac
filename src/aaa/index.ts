/** AAA: RADIUS (authentication, accounting, dynamic authorization), the local users file, address pools. */
export * from './radius/dictionary.js';
export * from './radius/errors.js';
export { saltDecrypt, saltEncrypt, hideUserPassword, unhideUserPassword } from './radius/crypto.js';
export * from './radius/values.js';
export * from './radius/packet.js';
export * from './radius/client.js';
export * from './radius/session-attrs.js';
export * from './radius/verifier.js';
export * from './radius/accounting.js';
export * from './radius/dynauth.js';
export * from './local-users.js';
export * from './pool/index-pool.js';
export * from './pool/pools.js';
