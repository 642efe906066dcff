/**
 * TypeBox check functions generated at build time (scripts/precompile-checks.ts replaces this
 * module in the main build), so a start of the built gateway neither builds the request
 * validators' code nor runs it through `new Function` — code the V8 code cache cannot hold,
 * ~10–20 ms of CPU for chat completions' schema alone. From sources (tests, `npm run cli`)
 * there are none and request-validation.ts compiles with TypeBox as before.
 *
 * Each entry is the factory TypeBox itself would evaluate: its generated code as a function of
 * (CheckContext, Guard, Hashing, External), returning the check.
 */
export type CheckFactory = (checkContext: unknown, guard: unknown, hashing: unknown, external: unknown) => (value: unknown) => boolean;

/** The schemas that have one, by their name in REQUEST_SCHEMAS (request-schemas.ts). */
export const precompiledChecks: Readonly<Record<string, CheckFactory | undefined>> = {};
