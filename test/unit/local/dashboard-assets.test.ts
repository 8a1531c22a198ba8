/**
 * The local API's dashboard files (infra/local/dashboard-assets.ts): built in
 * memory on first request, each with its content type and the strict CSP;
 * other paths left to the API.
 */
import { describe, expect, it } from 'vitest';
import { dashboardCsp } from '../../../dashboard/csp.js';
import { serveDashboard } from '../../../infra/local/dashboard-assets.js';

const get = (path: string, method = 'GET') => serveDashboard(new Request(`http://127.0.0.1${path}`, { method }));

describe('Module: dashboard assets', () => {
  it('serves index.html at /dashboard/ and the bundle beside it, each with its content type and the CSP', async () => {
    const index = await get('/dashboard/');
    expect(index?.status).toBe(200);
    expect(index?.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index?.headers.get('content-security-policy')).toBe(dashboardCsp());
    expect(await index?.text()).toContain('<script type="module" src="./app.js"></script>');
    const app = await get('/dashboard/app.js');
    expect(app?.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await app?.arrayBuffer())?.byteLength).toBeGreaterThan(10_000);
    expect((await get('/dashboard/styles.css'))?.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await (await get('/dashboard/config.json'))?.json()).toEqual({ apiBaseUrl: '' });
  });

  it('redirects /dashboard to /dashboard/, answers 404 for an unknown file and 405 for a write', async () => {
    const bare = await get('/dashboard');
    expect(bare?.status).toBe(308);
    expect(bare?.headers.get('location')).toBe('/dashboard/');
    // Only the built files are served (an in-memory map): no path reaches the file system.
    expect((await get('/dashboard/build.ts'))?.status).toBe(404);
    expect((await get('/dashboard/nothing.js'))?.status).toBe(404);
    expect((await get('/dashboard/index.html', 'POST'))?.status).toBe(405);
  });

  it('leaves every other path to the API', async () => {
    expect(await get('/v1/me')).toBeNull();
    expect(await get('/dashboards')).toBeNull();
  });

  it('forbids inline script, eval and framing in its policy', () => {
    const csp = dashboardCsp();
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
  });
});
