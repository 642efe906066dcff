/**
 * Fastify's dependencies that it `require`s only inside the functions that need them — a
 * logger (pino), `inject()` (light-my-request), its own schema compilers (the gateway gives it
 * lazy ones: src/main/gateway/lazy-schema-compilers.ts) — none of which `serve` uses. The main
 * build leaves them out of the bundle (~0.7 MB of the 3.1 MB every start reads), so such a
 * first use requires them from node_modules like any external package.
 */
export const FASTIFY_ON_FIRST_USE = ['pino', 'light-my-request', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'];
