/**
 * The profile file: where the API is and one bearer token per user, written by
 * `npm start -- --serve` for the local stack (`.goldline/local.json`) or by hand
 * for a deployed one.
 *
 *   { "endpoint": "http://127.0.0.1:8787", "program": "demo-cxr",
 *     "tokens": { "pm": "eyJ…", "qa": "…", "expert": "…", "vendor-a": "…", "vendor-b": "…" } }
 */
import { z } from 'zod';

export const DEFAULT_PROFILE = '.goldline/local.json';

export const Profile = z.object({
  endpoint: z.url({ protocol: /^https?$/ }),
  /** The program commands act on when `--program` is not given. */
  program: z.string().min(1).max(64).optional(),
  tokens: z.record(z.string().min(1).max(64), z.string().min(1)),
});
export type Profile = z.infer<typeof Profile>;

/** A usage mistake: the command line cannot be run as given (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command has printed why it failed (a rejected upload, say): exit 1, nothing more to say. */
export class ReportedFailure extends Error {
  constructor() {
    super('failed (reported above)');
    this.name = 'ReportedFailure';
  }
}

/** Parses a profile's text; a bad file is a usage error naming what is wrong. */
export function parseProfile(text: string, path: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`profile ${path} is not JSON: ${(e as Error).message}`);
  }
  const parsed = Profile.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UsageError(`profile ${path}: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return parsed.data;
}

export interface ConnectionOptions {
  endpoint?: string;
  token?: string;
  as?: string;
  profile?: string;
}

export interface Connection {
  endpoint: string;
  token?: string;
  /** Whose token it is (for messages), when it came from the profile. */
  user?: string;
  program?: string;
}

/**
 * Where to send requests and with which token: `--endpoint`/`--token` first, then
 * GOLDLINE_ENDPOINT/GOLDLINE_TOKEN, then the profile's endpoint and the token of
 * `--as` (or the command's default user).
 */
export function resolveConnection(
  opts: ConnectionOptions,
  defaultUser: string | undefined,
  profile: Profile | undefined,
  profilePath: string,
  env: Record<string, string | undefined>,
): Connection {
  const endpoint = opts.endpoint ?? env.GOLDLINE_ENDPOINT ?? profile?.endpoint;
  if (!endpoint) {
    throw new UsageError(
      `no API endpoint: pass --endpoint URL, or start the local stack with \`npm start -- --serve\` (it writes ${profilePath})`,
    );
  }
  if (!/^https?:\/\//.test(endpoint)) throw new UsageError(`--endpoint must be an http(s) URL (got "${endpoint}")`);
  let token = opts.token ?? (opts.as ? undefined : env.GOLDLINE_TOKEN);
  const user = token ? undefined : (opts.as ?? defaultUser);
  if (!token && user) {
    if (!profile) throw new UsageError(`no token: pass --token JWT, or a profile with a token for "${user}" (${profilePath} not found)`);
    token = profile.tokens[user];
    if (!token) {
      throw new UsageError(`profile ${profilePath} has no token for "${user}" (it has: ${Object.keys(profile.tokens).join(', ') || 'none'})`);
    }
  }
  if (!token && opts.as === undefined && defaultUser === undefined) {
    throw new UsageError('say who you are: --as USER (a token of the profile) or --token JWT');
  }
  return { endpoint: endpoint.replace(/\/+$/, ''), token, user, program: profile?.program };
}
