/**
 * The dashboard's build: esbuild bundles dashboard/src/main.ts (the pages,
 * Observable Plot, zod) into one ES module, beside the static index.html and
 * styles.css. `buildDashboard()` returns the files in memory (the local API
 * serves them); `npx tsx dashboard/build.ts OUT_DIR` writes them for the
 * static site (S3 + CloudFront, docs/dashboard.md).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface DashboardFile {
  /** Path under the dashboard root, e.g. `app.js`. */
  path: string;
  contentType: string;
  body: Uint8Array;
}

/** Content types of the files the build emits. */
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json',
};

export function contentTypeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

/**
 * Bundles the dashboard.
 *
 * @example const files = await buildDashboard(); files.find((f) => f.path === 'index.html')
 */
export async function buildDashboard(): Promise<DashboardFile[]> {
  const out = await build({
    entryPoints: [join(HERE, 'src/main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    outfile: 'app.js',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = out.outputFiles[0];
  if (!js) throw new Error('esbuild emitted no bundle for the dashboard');
  const statics = await Promise.all(['index.html', 'styles.css'].map(async (p) => ({ path: p, body: new Uint8Array(await readFile(join(HERE, p))) })));
  return [...statics, { path: 'app.js', body: js.contents }].map((f) => ({ ...f, contentType: contentTypeOf(f.path) }));
}

/** Writes the built files to `dir` (the static site's content). */
export async function writeDashboard(dir: string): Promise<string[]> {
  const files = await buildDashboard();
  await mkdir(dir, { recursive: true });
  for (const f of files) await writeFile(join(dir, f.path), f.body);
  // On the CloudFront site the API is the same origin (/v1/* goes to the HTTP API).
  await writeFile(join(dir, 'config.json'), `${JSON.stringify({ apiBaseUrl: '' })}\n`);
  return [...files.map((f) => join(dir, f.path)), join(dir, 'config.json')];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? 'dashboard/dist';
  writeDashboard(dir).then(
    (written) => console.log(`dashboard built: ${written.join(', ')}`),
    (e: unknown) => {
      console.error(`dashboard build failed: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
