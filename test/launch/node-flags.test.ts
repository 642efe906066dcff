/**
 * The node flags the product starts the gateway with (bin/switchyard.js's shebang, the
 * `serve` and `cli` scripts that run it from source) are the same, and they take effect:
 * a script with the bin's first line, executed the way npm's bin link executes it, runs
 * with the heap limits those flags set.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const shebang = readFileSync(join(root, 'bin', 'switchyard.js'), 'utf8').split('\n', 1)[0]!;
const flags = shebang.replace(/^#!\/usr\/bin\/env -S node /, '').split(' ');
const directory = mkdtempSync(join(tmpdir(), 'switchyard-node-flags-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('node flags of the gateway process', () => {
  it('are on an env -S shebang line that names node', () => {
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node( --[a-z0-9-]+(=\d+)?)+$/);
    // Linux kernels before 5.1 read only the first 127 bytes of a #! line.
    expect(shebang.length).toBeLessThan(128);
    expect(flags).toContain('--max-semi-space-size=4');
    expect(flags).toContain('--heap-growing-percent=80');
    // No cap on the old generation: V8's default limit, so many large bodies at once do not abort the process.
    expect(flags.some((flag) => flag.startsWith('--max-old-space-size='))).toBe(false);
  });

  it('are the same in the scripts that run the CLI from source', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['serve', 'cli']) expect(scripts[name], name).toContain(`tsx ${flags.join(' ')} src/main/cli.ts`);
  });

  it('take effect when the file is executed through its shebang', () => {
    const script = join(directory, 'probe.js');
    writeFileSync(
      script,
      `${shebang}\nconst v8 = require('node:v8');\nprocess.stdout.write(JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit, newSpace: v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size, argv: process.execArgv }));\n`,
    );
    chmodSync(script, 0o755);
    const probe = JSON.parse(execFileSync(script, { encoding: 'utf8' })) as { limit: number; newSpace: number; argv: string[] };
    expect(probe.argv).toEqual(flags);
    const plain = JSON.parse(execFileSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('node:v8').getHeapStatistics().heap_size_limit))"], { encoding: 'utf8' })) as number;
    // The young generation is capped (3 semi-spaces of at most 4 MB instead of 16): the limit is
    // V8's default less the difference, and the old generation keeps V8's default cap.
    expect(plain - probe.limit).toBeGreaterThan(0);
    expect(plain - probe.limit).toBeLessThanOrEqual(3 * 12 * 1048576);
    expect(probe.newSpace).toBeLessThanOrEqual(4 * 1048576);
  });
});
