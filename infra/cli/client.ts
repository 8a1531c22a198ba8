/**
 * A small client of the Goldline API: bearer token, JSON in and out, and every
 * refusal turned into an ApiProblemError carrying the RFC 9457 problem.
 */
import type { GoldlineIo } from './io.js';

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { path: string; message: string }[];
  diff?: string;
  [k: string]: unknown;
}

/** The API refused a request (4xx/5xx): the problem it answered with. */
export class ApiProblemError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
    readonly request: string,
  ) {
    super(`${request} → ${status} ${problem.title ?? ''}: ${problem.detail ?? ''}`);
    this.name = 'ApiProblemError';
  }
}

/** The API could not be reached at all (connection refused, DNS, TLS). */
export class ApiUnreachableError extends Error {
  constructor(endpoint: string, cause: unknown) {
    const code = (cause as { cause?: { code?: string } })?.cause?.code;
    super(`cannot reach the API at ${endpoint}${code ? ` (${code})` : ''}: is it running? (\`npm start -- --serve\` for the local stack)`);
    this.name = 'ApiUnreachableError';
  }
}

type Query = Record<string, string | number | undefined>;

export class ApiClient {
  constructor(
    readonly endpoint: string,
    readonly token: string | undefined,
    private readonly io: Pick<GoldlineIo, 'fetch'>,
  ) {}

  /** Sends one request; answers the parsed JSON body (or the text, for non-JSON answers). */
  async call<T = unknown>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${this.endpoint}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json, text/csv' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.io.fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch (e) {
      throw new ApiUnreachableError(this.endpoint, e);
    }
    const text = await res.text();
    const isJson = /json/.test(res.headers.get('content-type') ?? '');
    let parsed: unknown = text;
    if (isJson && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) {
      const problem: ProblemBody =
        parsed && typeof parsed === 'object' ? (parsed as ProblemBody) : { status: res.status, title: res.statusText, detail: text.slice(0, 500) };
      throw new ApiProblemError(res.status, problem, `${method} ${url.pathname}`);
    }
    return parsed as T;
  }

  /** Every page of a cursor-paginated listing (`{ items, next }`), up to `max` items. */
  async all<T>(path: string, query: Query = {}, max = 100_000): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.call<{ items: T[]; next?: string }>('GET', path, { query: { ...query, cursor } });
      out.push(...page.items);
      cursor = page.next;
    } while (cursor && out.length < max);
    return out;
  }
}

/** The lines a refusal prints: title, detail, field errors, a diff when the API sent one. */
export function describeProblem(e: ApiProblemError): string[] {
  const p = e.problem;
  const lines = [`error: ${p.title ?? 'request refused'} (HTTP ${e.status}, ${e.request})${p.detail ? `: ${p.detail}` : ''}`];
  for (const f of p.errors ?? []) lines.push(`  - ${f.path}: ${f.message}`);
  if (typeof p.diff === 'string' && p.diff) lines.push('changes against the registered version:', ...p.diff.split('\n').map((l) => `  ${l}`));
  return lines;
}
