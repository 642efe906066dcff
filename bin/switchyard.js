#!/usr/bin/env node
// Installed entry point: runs the built CLI (`npm run build` produces out/main/cli.js).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'out', 'main', 'cli.js');
if (!existsSync(built)) {
  process.stderr.write('switchyard: the CLI is not built yet; run `npm run build` (or use `npm run cli -- <command>` from a checkout)\n');
  process.exit(1);
}
await import(built);
