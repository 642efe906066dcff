/**
 * A vite plugin that rewrites one bundled module and fails the build when that module is not in
 * it: the main build always bundles it, so a module not seen means its package moved it, and the
 * saving the rewrite makes would go away without anyone noticing.
 */
import type { Plugin } from 'vite';

export function requiredRewrite(name: string, file: RegExp, rewrite: (code: string) => string, notInBuild: string): Plugin {
  let seen = false;
  return {
    name,
    apply: 'build',
    transform(code, id) {
      if (!file.test(id)) return null;
      seen = true;
      return { code: rewrite(code), map: null };
    },
    buildEnd(error) {
      if (!error && !seen) this.error(notInBuild);
    },
  };
}
