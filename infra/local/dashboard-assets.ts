/**
 * The QA dashboard on the local API: `GET /dashboard/…` serves the files that
 * dashboard/build.ts bundles (built once, on the first request, in memory),
 * with their content types and a strict Content-Security-Policy: scripts and
 * styles from this origin only (no inline, no eval), API calls to this origin.
 */
import { type DashboardFile, buildDashboard } from '../../dashboard/build.js';
import { dashboardCsp } from '../../dashboard/csp.js';

export const DASHBOARD_PATH = '/dashboard/';

const SECURITY_HEADERS = {
  'content-security-policy': dashboardCsp(),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

let built: Promise<Map<string, DashboardFile>> | undefined;

/**
 * Answers a request under /dashboard/ (null for any other path, so the API answers it).
 *
 * @example const res = await serveDashboard(new Request('http://127.0.0.1/dashboard/')) // index.html
 */
export async function serveDashboard(req: Request): Promise<Response | null> {
  const { pathname } = new URL(req.url);
  if (pathname === '/dashboard') return new Response(null, { status: 308, headers: { location: DASHBOARD_PATH } });
  if (!pathname.startsWith(DASHBOARD_PATH)) return null;
  if (req.method !== 'GET' && req.method !== 'HEAD') return new Response('method not allowed', { status: 405, headers: { allow: 'GET, HEAD', ...SECURITY_HEADERS } });
  built ??= buildDashboard().then((files) => new Map(files.map((f) => [f.path, f])));
  const files = await built.catch((e: unknown) => {
    built = undefined;
    throw e;
  });
  const name = pathname.slice(DASHBOARD_PATH.length) || 'index.html';
  if (name === 'config.json') {
    // Locally the API is this origin.
    return new Response(JSON.stringify({ apiBaseUrl: '' }), { headers: { 'content-type': 'application/json', ...SECURITY_HEADERS } });
  }
  const file = files.get(name);
  if (!file) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS } });
  return new Response(req.method === 'HEAD' ? null : file.body, { headers: { 'content-type': file.contentType, ...SECURITY_HEADERS } });
}
