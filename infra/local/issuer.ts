/**
 * The embedded token issuer: the local stand-in of the Cognito user pool. It
 * has its own RSA key pair, serves the public key as a JWKS on 127.0.0.1
 * (`/.well-known/jwks.json`) and signs ID tokens shaped like Cognito's for a
 * configured list of users. The API verifies them exactly as it verifies
 * Cognito's (functions/api/auth.ts).
 */
import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { AuthConfig, Role } from '../../functions/api/auth.js';

export interface LocalUser {
  username: string;
  groups: Role[];
  workforceId?: string;
  email?: string;
}

/** The demo users, by the name the profile file and the CLI use. */
export const DEMO_USERS = {
  pm: { username: 'alice', groups: ['pm'] },
  qa: { username: 'quinn', groups: ['qa'] },
  expert: { username: 'dr-lead', groups: ['expert'], workforceId: 'radiology-team' },
  'vendor-a': { username: 'vendor-a', groups: ['vendor'], workforceId: 'vendor-a' },
  'vendor-b': { username: 'vendor-b', groups: ['vendor'], workforceId: 'vendor-b' },
} as const satisfies Record<string, LocalUser>;
export type DemoUser = keyof typeof DEMO_USERS;

/** The app client id the local tokens are issued for (`aud`). */
export const LOCAL_AUDIENCE = 'goldline-local';

export interface IssueOptions {
  /** Seconds from now until the token expires (negative: already expired). Default 3600. */
  expiresIn?: number;
  /** Claims to add or override (tests: a wrong audience, a missing group). */
  claims?: Record<string, unknown>;
}

export interface LocalIssuer {
  config: AuthConfig;
  users: Record<string, LocalUser>;
  issueToken(user: string, opts?: IssueOptions): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts an issuer on 127.0.0.1 (a random port unless given).
 *
 * @example
 * const issuer = await startIssuer();
 * const token = await issuer.issueToken('vendor-a');
 * // createApi({ deps, auth: issuer.config })
 */
export async function startIssuer(opts: { users?: Record<string, LocalUser>; audience?: string; port?: number } = {}): Promise<LocalIssuer> {
  const users: Record<string, LocalUser> = opts.users ?? DEMO_USERS;
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const jwks = JSON.stringify({ keys: [jwk] });

  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(jwks);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config: AuthConfig = { issuer, audience: opts.audience ?? LOCAL_AUDIENCE, jwksUrl: `${issuer}/.well-known/jwks.json` };

  return {
    config,
    users,
    issueToken: (user, o = {}) => signToken(privateKey, kid, config, users, user, o),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function signToken(
  key: CryptoKey,
  kid: string,
  config: AuthConfig,
  users: Record<string, LocalUser>,
  name: string,
  opts: IssueOptions,
): Promise<string> {
  const user = users[name];
  if (!user) throw new Error(`unknown local user "${name}" (known: ${Object.keys(users).join(', ')})`);
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = opts.expiresIn ?? 3600;
  const exp = now + expiresIn;
  // Registered claims are set here, so `opts.claims` can override any of them (tests).
  return new SignJWT({
    iss: config.issuer,
    aud: config.audience,
    sub: `local-${user.username}`,
    iat: Math.min(now, exp - 1),
    exp,
    token_use: 'id',
    'cognito:groups': [...user.groups],
    'cognito:username': user.username,
    ...(user.email ? { email: user.email } : {}),
    ...(user.workforceId ? { 'custom:workforceId': user.workforceId } : {}),
    ...opts.claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .sign(key);
}
