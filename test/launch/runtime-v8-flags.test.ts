/**
 * The V8 flags the gateway sets at run time (src/main/v8-runtime-flags.ts) take effect: with
 * allocation-site pretenuring on, V8 soon allocates a literal whose objects all outlive the
 * young generation straight in the old one, so few young-generation collections run; with the
 * gateway's flags applied, those objects are allocated young and collections keep running.
 * Both runs are child processes under the bin's heap flags; the counts depend on allocation,
 * not on time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shebangNodeFlags } from '../../bench/children.js';

const root = join(import.meta.dirname, '..', '..');
const module = join(root, 'src', 'main', 'v8-runtime-flags.ts');

/** Young-generation collections while a million objects of one literal are made and all kept. */
function workload(applyFlags: boolean): string {
  return `
    import { PerformanceObserver, constants } from 'node:perf_hooks';
    ${applyFlags ? `import { applyRuntimeV8Flags } from ${JSON.stringify(module)}; applyRuntimeV8Flags();` : ''}
    let minor = 0;
    const observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor += 1; });
    observer.observe({ entryTypes: ['gc'] });
    const make = (index) => ({ index, label: 'kept', next: null });
    const kept = [];
    for (let index = 0; index < 1_000_000; index++) kept.push(make(index));
    // GC entries are delivered on a later turn.
    setTimeout(() => { observer.disconnect(); process.stdout.write(String(minor) + ' ' + kept.length); }, 300);
  `;
}

function youngCollections(applyFlags: boolean): number {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const flags = shebangNodeFlags(join(root, 'bin', 'switchyard.js'));
  const output = execFileSync(tsx, [...flags, '--input-type=module', '-e', workload(applyFlags)], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const [count, kept] = output.trim().split(' ').map(Number);
  expect(kept).toBe(1_000_000);
  return count!;
}

describe('runtime V8 flags', () => {
  it('turn allocation-site pretenuring off: objects that all survive are still allocated young', () => {
    const plain = youngCollections(false);
    const applied = youngCollections(true);
    // Measured: 6–7 without, 22 with, under the bin's 4 MB semi-space.
    expect(plain).toBeGreaterThan(0);
    expect(applied).toBeGreaterThan(plain * 1.5);
  }, 120_000);

  it('are applied by the CLI loader before it reads the code cache, and by startGateway', () => {
    const loader = readFileSync(join(root, 'src', 'main', 'cli-loader.ts'), 'utf8');
    const applied = loader.indexOf('applyRuntimeV8Flags();');
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(loader.indexOf('runCachedBundle(bundlePath'));
    expect(readFileSync(join(root, 'src', 'main', 'headless.ts'), 'utf8')).toMatch(/startGateway\([^)]*\)[^{]*\{\n\s+applyRuntimeV8Flags\(\);/);
  });
});
