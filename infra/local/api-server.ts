/**
 * The API on 127.0.0.1: the same application Lambda runs (functions/api/app.ts),
 * served by `@hono/node-server` over the embedded stack's deps, verifying tokens
 * of the embedded issuer (issuer.ts) — or of the issuer given.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApi } from '../../functions/api/app.js';
import type { AuthConfig } from '../../functions/api/auth.js';
import type { Deps } from '../../functions/use-cases/ports.js';
import { DASHBOARD_PATH, serveDashboard } from './dashboard-assets.js';
import { type LocalIssuer, startIssuer } from './issuer.js';

export interface ApiServer {
  /** Base URL, e.g. http://127.0.0.1:53211 (routes under /v1). */
  url: string;
  /** The QA dashboard (dashboard/), served by the same server. */
  dashboardUrl: string;
  /** The issuer whose tokens the server accepts (started here unless one was given). */
  issuer: LocalIssuer;
  close(): Promise<void>;
}

/**
 * Serves the API for `deps` on 127.0.0.1.
 *
 * @example
 * const api = await startApiServer({ deps: stack.deps });
 * await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${await api.issuer.issueToken('pm')}` } });
 */
export async function startApiServer(opts: { deps: Deps; issuer?: LocalIssuer; port?: number; log?: (line: string) => void }): Promise<ApiServer> {
  const ownIssuer = !opts.issuer;
  const issuer = opts.issuer ?? (await startIssuer());
  const auth: AuthConfig = issuer.config;
  const app = createApi({ deps: opts.deps, auth, log: opts.log });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: async (req) => (await serveDashboard(req)) ?? app.fetch(req), hostname: '127.0.0.1', port: opts.port ?? 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dashboardUrl: `http://127.0.0.1:${port}${DASHBOARD_PATH}`,
    issuer,
    async close() {
      await new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      });
      if (ownIssuer) await issuer.close();
    },
  };
}
