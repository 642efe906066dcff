/**
 * `/ui` serves only a built renderer: the source page (`src/renderer/index.html`, which
 * loads `./src/main.tsx`) is never taken for one, whether the gateway runs bundled or from
 * the checkout through tsx; `npm run serve` knows when out/renderer is missing or older
 * than its sources (and builds it: scripts/ensure-renderer.ts); without a UI, /ui says how
 * to get one, under the same Content-Security-Policy header as the page.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { rendererBuildState } from '../../src/main/admin/renderer-build-state.js';
import { findRendererDirectory, inspectRendererPage, UI_NOT_BUILT_MESSAGE } from '../../src/main/admin/renderer-location.js';
import { registerStaticFiles, UI_CONTENT_SECURITY_POLICY } from '../../src/main/admin/static-files.js';

const checkout = resolve(import.meta.dirname, '../..');
const SOURCE_PAGE = readFileSync(join(checkout, 'src/renderer/index.html'), 'utf8');
const BUILT_PAGE = '<!doctype html><head><script type="module" crossorigin src="./assets/index-abc123.js"></script><link rel="stylesheet" href="./assets/index.css"></head><body><div id="root"></div></body>';

const folders: string[] = [];
function temporary(): string {
  const folder = mkdtempSync(join(tmpdir(), 'switchyard-renderer-'));
  folders.push(folder);
  return folder;
}
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

function builtRenderer(directory: string): void {
  write(join(directory, 'index.html'), BUILT_PAGE);
  write(join(directory, 'assets', 'index-abc123.js'), 'console.log(1)');
}

describe('a built page', () => {
  const exists = (files: string[]) => (path: string) => files.includes(path);

  it('is one whose module scripts are JavaScript files beside it', () => {
    expect(inspectRendererPage(BUILT_PAGE, '/r', exists([join('/r', 'assets', 'index-abc123.js')]))).toEqual({ built: true });
  });

  it('is not the source page', () => {
    expect(SOURCE_PAGE).toContain('main.tsx');
    const state = inspectRendererPage(SOURCE_PAGE, '/r', () => true);
    expect(state).toEqual({ built: false, reason: expect.stringContaining('./src/main.tsx, a source file') });
  });

  it('is not a page whose scripts are missing, elsewhere, outside its folder, or absent', () => {
    expect(inspectRendererPage(BUILT_PAGE, '/r', () => false)).toMatchObject({ built: false, reason: expect.stringContaining('missing') });
    expect(inspectRendererPage('<script type="module" src="http://localhost:5173/main.js"></script>', '/r', () => true)).toMatchObject({ built: false });
    expect(inspectRendererPage('<script type="module" src="//cdn.example/main.js"></script>', '/r', () => true)).toMatchObject({ built: false });
    expect(inspectRendererPage('<script type="module" src="../../secret.js"></script>', '/r', () => true)).toMatchObject({ built: false });
    expect(inspectRendererPage('<!doctype html><title>Switchyard</title>', '/r', () => true)).toMatchObject({ built: false, reason: 'index.html loads no script' });
  });
});

describe('findRendererDirectory', () => {
  it('from the checkout (tsx) passes over src/renderer and takes a built out/renderer', () => {
    const root = temporary();
    const module = pathToFileURL(join(root, 'src', 'main', 'admin', 'renderer-location.ts')).href;
    write(join(root, 'src', 'renderer', 'index.html'), SOURCE_PAGE);
    write(join(root, 'src', 'renderer', 'src', 'main.tsx'), 'export {};');
    expect(findRendererDirectory(module)).toBeNull();
    builtRenderer(join(root, 'out', 'renderer'));
    expect(findRendererDirectory(module)).toBe(join(root, 'out', 'renderer') + sep);
  });

  it('bundled, finds out/renderer beside out/main and its chunks', () => {
    const root = temporary();
    builtRenderer(join(root, 'out', 'renderer'));
    expect(findRendererDirectory(pathToFileURL(join(root, 'out', 'main', 'cli.js')).href)).toBe(join(root, 'out', 'renderer') + sep);
    expect(findRendererDirectory(pathToFileURL(join(root, 'out', 'main', 'chunks', 'shared.js')).href)).toBe(join(root, 'out', 'renderer') + sep);
  });

  it('in this checkout never answers the source folder', () => {
    const found = findRendererDirectory();
    expect(found === null || found.startsWith(join(checkout, 'out', 'renderer'))).toBe(true);
  });
});

describe('rendererBuildState', () => {
  function checkoutWithSources(): string {
    const root = temporary();
    write(join(root, 'src', 'renderer', 'index.html'), SOURCE_PAGE);
    write(join(root, 'src', 'renderer', 'src', 'main.tsx'), 'export {};');
    write(join(root, 'src', 'shared', 'contract.ts'), 'export {};');
    const past = new Date(Date.now() - 60_000);
    for (const file of ['src/renderer/index.html', 'src/renderer/src/main.tsx', 'src/shared/contract.ts']) utimesSync(join(root, file), past, past);
    return root;
  }

  it('is missing without out/renderer, unbuilt for a copied source page, fresh after a build', () => {
    const root = checkoutWithSources();
    expect(rendererBuildState(root)).toEqual({ state: 'missing', reason: join('out', 'renderer', 'index.html') + ' does not exist' });
    write(join(root, 'out', 'renderer', 'index.html'), SOURCE_PAGE);
    expect(rendererBuildState(root)).toMatchObject({ state: 'unbuilt' });
    builtRenderer(join(root, 'out', 'renderer'));
    expect(rendererBuildState(root)).toEqual({ state: 'fresh' });
  });

  it('is stale once a renderer or shared source changes after the build', () => {
    const root = checkoutWithSources();
    builtRenderer(join(root, 'out', 'renderer'));
    expect(rendererBuildState(root)).toEqual({ state: 'fresh' });
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'src', 'shared', 'contract.ts'), later, later);
    expect(rendererBuildState(root)).toEqual({ state: 'stale', reason: `${join('src', 'shared', 'contract.ts')} changed after the last build` });
  });
});

describe('scripts/ensure-renderer.ts', () => {
  const tsx = join(checkout, 'node_modules', '.bin', 'tsx');
  const run = (out: string) => spawnSync(tsx, [join(checkout, 'scripts', 'ensure-renderer.ts'), '--out', out], { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });

  it('builds the renderer when it is missing, and leaves a fresh one alone', () => {
    const out = join(temporary(), 'renderer');
    const first = run(out);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('switchyard: building the UI');
    expect(first.stdout).toContain('switchyard: UI built in');
    expect(findRendererDirectory(pathToFileURL(join(out, '..', 'main', 'cli.js')).href)).toBe(out + sep);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).not.toContain('main.tsx');
    expect(html).not.toContain('frame-ancestors');
    const second = run(out);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe('');
  }, 90_000);
});

describe('/ui without a built renderer', () => {
  it('answers 404 saying how to build it, under the policy header', async () => {
    const app = Fastify();
    registerStaticFiles(app, null);
    const response = await app.inject({ method: 'GET', url: '/ui/' });
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain(UI_NOT_BUILT_MESSAGE);
    expect(response.body).toContain('npm run build');
    expect(response.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    await app.close();
  });
});

describe('the Content-Security-Policy', () => {
  it('travels as a header with frame-ancestors; the page\'s meta policy has none (a meta element cannot carry it)', () => {
    expect(UI_CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(SOURCE_PAGE)?.[1];
    expect(meta).toBeDefined();
    expect(meta).not.toContain('frame-ancestors');
    expect(meta).toContain("script-src 'self'");
  });
});
