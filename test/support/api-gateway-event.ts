/** API Gateway events as the HTTP API hands them to the API functions' Lambda entry (functions/api.ts). */
import { API } from '../../infra/definitions.js';

/** An API Gateway HTTP API (payload 2.0) event for the `/v1/{proxy+}` route. */
export function apiGatewayEvent(method: string, target: string, token?: string, body?: unknown): Record<string, unknown> {
  const [path, query = ''] = target.split('?');
  const headers: Record<string, string> = { host: '127.0.0.1', 'user-agent': 'vitest' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const routeKey = `ANY ${API.basePath}/{proxy+}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: query,
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
}
