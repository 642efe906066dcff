/**
 * Fastify's own schema compilers (Ajv for validation, fast-json-stringify for
 * serialisation), loaded the first time a route with a Fastify schema needs one. No route
 * of the gateway declares one (bodies are checked with TypeBox, see request-validation.ts),
 * so a plain start loads neither: requiring them is about 120 ms of CPU before `serve`
 * listens (issue 11). Should a route gain a schema, the compilers Fastify picks by default
 * are loaded then and do the same work (one difference: Fastify then treats the validator
 * as a custom one, so it does not lower-case the keys of a `headers` schema itself).
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type Factory = (...args: unknown[]) => unknown;

const load = createRequire(import.meta.url);

/** The factory the package's default export makes (Fastify calls it just so), made on first use. */
function lazily(packageName: string): Factory {
  return (...args) => (load(packageName) as () => Factory)()(...args);
}

export const lazySchemaCompilers: CompilersFactory = {
  buildValidator: lazily('@fastify/ajv-compiler') as CompilersFactory['buildValidator'],
  buildSerializer: lazily('@fastify/fast-json-stringify-compiler') as CompilersFactory['buildSerializer'],
};
