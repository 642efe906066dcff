/**
 * SWITCHYARD_MEMORY_REPORT (src/main/memory-report.ts): a JSON line of the thread's heap
 * statistics when asked, nothing otherwise; node:v8 is loaded only when asked (run in a fresh
 * node, where the test runner has not loaded it already).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'switchyard-memory-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(file: string | undefined): { v8Loaded: boolean } {
  const script = `
    import { startMemoryReport } from ${JSON.stringify(join(root, 'src', 'main', 'memory-report.ts'))};
    startMemoryReport('main');
    process.stdout.write(JSON.stringify({ v8Loaded: process.moduleLoadList.includes('NativeModule v8') }));
  `;
  const environment = { ...process.env, SWITCHYARD_MEMORY_REPORT: file ?? '' };
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: environment });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as { v8Loaded: boolean };
}

describe('the memory report', () => {
  it('writes a line of heap statistics when asked, and loads node:v8 only then', () => {
    expect(run(undefined)).toEqual({ v8Loaded: false });
    const file = join(scratch, 'memory.jsonl');
    expect(run(file)).toEqual({ v8Loaded: true });
    const [line] = readFileSync(file, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as { thread: string; heap: { used: number; total: number }; spaces: Record<string, number> });
    expect(line!.thread).toBe('main');
    expect(line!.heap.used).toBeGreaterThan(0);
    expect(line!.heap.total).toBeGreaterThanOrEqual(line!.heap.used);
    expect(line!.spaces).toHaveProperty('new_space');
  });
});
