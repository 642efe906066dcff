/**
 * A build step for start-up: the request validators' TypeBox checks generated at build time.
 * TypeBox builds a check's code from its schema and evaluates it with `new Function` — for
 * chat completions' schema ~10–20 ms of CPU at every start of `switchyard serve`, and code
 * the V8 code cache cannot hold. This plugin replaces src/main/gateway/precompiled-checks.ts
 * in the main build with that same code (TypeBox's `Build(...).Evaluate().Code()`, by the
 * installed TypeBox, from the schemas in request-schemas.ts), each as the function of
 * (CheckContext, Guard, Hashing, External) TypeBox would have evaluated.
 * The build fails if a schema needs values from outside its code (TypeBox's `External`
 * variables, or an unevaluated-properties context) or if the module was not in the build.
 */
import { Build } from 'typebox/schema';
import type { Plugin } from 'vite';
import { REQUEST_SCHEMAS } from '../src/main/gateway/request-schemas';

const PRECOMPILED_MODULE = /[\\/]src[\\/]main[\\/]gateway[\\/]precompiled-checks\.ts$/;

/** The module's generated source: `export const precompiledChecks = { <name>: function (CheckContext, Guard, Hashing, External) { … }, … }`. */
export function precompiledChecksSource(): string {
  const entries = Object.entries(REQUEST_SCHEMAS).map(([name, schema]) => {
    const build = Build({}, schema);
    const external = build.External();
    if (external.variables.length > 0 || build.UseUnevaluated()) {
      throw new Error(`scripts/precompile-checks.ts: the "${name}" request schema needs values from outside its generated code; it cannot be precompiled`);
    }
    return `  ${JSON.stringify(name)}: function (CheckContext, Guard, Hashing, ${external.identifier}) {\n${build.Evaluate().Code()}\n  }`;
  });
  return `export const precompiledChecks = {\n${entries.join(',\n')}\n};\n`;
}

/** The vite plugin of the main build (desktop app and CLI alike). */
export function precompileChecks(): Plugin {
  let seen = false;
  return {
    name: 'switchyard-precompile-checks',
    apply: 'build',
    load(id) {
      if (!PRECOMPILED_MODULE.test(id)) return null;
      seen = true;
      return { code: precompiledChecksSource(), map: null };
    },
    buildEnd(error) {
      if (!error && !seen) this.error('src/main/gateway/precompiled-checks.ts was not in the main build: update scripts/precompile-checks.ts');
    },
  };
}
