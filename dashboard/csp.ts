/**
 * The dashboard's Content-Security-Policy, one text for the local server
 * (infra/local/dashboard-assets.ts) and the CloudFront distribution
 * (infra/dashboard-site.ts): scripts and styles from the page's origin only —
 * no inline script or style, no eval — and API calls to that origin.
 */
export function dashboardCsp(apiOrigin = "'self'"): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${apiOrigin}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
