/**
 * The S3 guard: a loopback HTTP front for s3rver that serves the presigned URLs
 * the embedded stack hands out, and enforces the rules S3 enforces and s3rver
 * does not (docs/local-stack.md):
 *
 * - the SigV4 query signature is verified (wrong key, tampered URL, a signed
 *   header missing or changed: 403 SignatureDoesNotMatch), an x-amz-* header that
 *   was not signed is refused (403 AccessDenied), an expired URL is refused;
 * - a PUT needs a Content-Length (411 MissingContentLength);
 * - a PUT carrying `if-none-match: *` is refused when the key exists (412
 *   PreconditionFailed), whatever its body: PUTs to one key are serialized, so
 *   two racing PUTs cannot both pass the check;
 * - a PUT carrying `x-amz-checksum-sha256` is stored only if the body has that
 *   SHA-256 (400 BadDigest).
 *
 * Everything else is forwarded to s3rver unchanged (s3rver still emits its
 * object events, which drive ingest). Requests the SDK sends with an
 * Authorization header go to s3rver directly, not through the guard.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Agent, type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface S3GuardOptions {
  /** s3rver's endpoint, e.g. `http://127.0.0.1:4568`. */
  upstream: string;
  /** The credentials presigned URLs must be signed with. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Told about every refusal (method, path, S3 error code). */
  log?: (line: string) => void;
  /** Wall clock for URL expiry (S3 uses its own clock, not the stack's simulated one). */
  now?: () => Date;
}

export interface S3Guard {
  /** Where presigned URLs must point: `http://127.0.0.1:<port>`. */
  endpoint: string;
  close(): Promise<void>;
}

/** S3's own size limit for a single PUT. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;

class S3Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** RFC 3986 encoding as SigV4 canonicalizes query names and values. */
const uriEncode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Refusal(400, 'InvalidArgument', 'malformed query string');
  }
};

const sha256 = (data: string | Uint8Array): Buffer => createHash('sha256').update(data).digest();
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** `20261128T225544Z` → Date. */
function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/** The header's value as SigV4 canonicalizes it ('' when absent). */
function canonicalHeaderValue(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').trim();
}

/**
 * Verifies a presigned (query-string) SigV4 request as S3 would; throws an
 * S3Refusal when S3 would refuse it.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
export function verifyPresignedRequest(
  req: IncomingMessage,
  credentials: S3GuardOptions['credentials'],
  now: Date,
): { signedHeaders: Set<string> } {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const pairs = (q < 0 ? '' : raw.slice(q + 1))
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [safeDecode(p), ''] : [safeDecode(p.slice(0, eq)), safeDecode(p.slice(eq + 1))];
    });
  const param = (name: string): string | undefined => pairs.find(([k]) => k === name)?.[1];

  const signature = param('X-Amz-Signature');
  if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !signature) {
    throw new S3Refusal(403, 'AccessDenied', 'Only presigned (AWS4-HMAC-SHA256 query string) requests are served here');
  }
  const credential = (param('X-Amz-Credential') ?? '').split('/');
  const amzDate = param('X-Amz-Date') ?? '';
  const expires = Number(param('X-Amz-Expires'));
  const signedList = (param('X-Amz-SignedHeaders') ?? '').split(';').filter((h) => h.length > 0);
  if (credential.length !== 5 || credential[4] !== 'aws4_request' || !parseAmzDate(amzDate) || !Number.isInteger(expires)) {
    throw new S3Refusal(400, 'AuthorizationQueryParametersError', 'malformed X-Amz-Credential, X-Amz-Date or X-Amz-Expires');
  }
  const [accessKeyId, shortDate, region, service] = credential;
  if (accessKeyId !== credentials.accessKeyId) {
    throw new S3Refusal(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  }
  const signedAt = parseAmzDate(amzDate) as Date;
  if (now.getTime() > signedAt.getTime() + expires * 1000) throw new S3Refusal(403, 'AccessDenied', 'Request has expired');

  const signedHeaders = new Set(signedList);
  if (!signedHeaders.has('host')) throw new S3Refusal(400, 'AuthorizationQueryParametersError', 'host must be a signed header');
  const unsigned = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !signedHeaders.has(h));
  if (unsigned.length > 0) {
    throw new S3Refusal(403, 'AccessDenied', `There were headers present in the request which were not signed: ${unsigned.join(', ')}`);
  }

  const canonicalQuery = pairs
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    req.method ?? 'GET',
    path,
    canonicalQuery,
    `${signedList.map((h) => `${h}:${canonicalHeaderValue(req, h)}`).join('\n')}\n`,
    signedList.join(';'),
    param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest).toString('hex')].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, shortDate);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign);
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new S3Refusal(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return { signedHeaders };
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new S3Refusal(400, 'IncompleteBody', 'the body is longer than its Content-Length');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Starts the guard on a loopback port in front of `upstream`. */
export async function startS3Guard(opts: S3GuardOptions): Promise<S3Guard> {
  const upstream = new URL(opts.upstream);
  // A fresh loopback connection per request: s3rver closes idle kept-alive sockets, and a
  // request sent on one as it closes fails with "socket hang up" (Node's reusedSocket race).
  const agent = new Agent({ keepAlive: false, maxSockets: 64 });
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => undefined);
  // PUTs to one key, one at a time: the existence check and the write are one step.
  const keyLocks = new Map<string, Promise<void>>();

  const forward = (req: IncomingMessage, body: Buffer | undefined, drop: readonly string[] = [], retries = 2): Promise<IncomingMessage> =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host };
      for (const h of drop) delete headers[h];
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        resolve,
      );
      out.on('error', (e: NodeJS.ErrnoException) => {
        // A connection s3rver dropped before answering: a GET or HEAD (safe to repeat) is sent again.
        if (retries > 0 && (req.method === 'GET' || req.method === 'HEAD') && (e.code === 'ECONNRESET' || e.message === 'socket hang up')) {
          forward(req, Buffer.alloc(0), drop, retries - 1).then(resolve, reject);
          return;
        }
        reject(e);
      });
      if (body) out.end(body);
      else req.pipe(out);
    });

  const exists = (path: string) =>
    new Promise<boolean>((resolve, reject) => {
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: 'HEAD', path, agent }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      out.on('error', reject);
      out.end();
    });

  const relay = (from: IncomingMessage, to: ServerResponse) => {
    to.writeHead(from.statusCode ?? 502, from.headers);
    from.pipe(to);
  };

  const withKeyLock = async <T>(path: string, work: () => Promise<T>): Promise<T> => {
    const before = keyLocks.get(path) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const chained = before.then(() => mine);
    keyLocks.set(path, chained);
    await before;
    try {
      return await work();
    } finally {
      release();
      if (keyLocks.get(path) === chained) keyLocks.delete(path);
    }
  };

  const handlePut = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const declared = req.headers['content-length'];
    if (declared === undefined) throw new S3Refusal(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    const length = Number(declared);
    if (!Number.isInteger(length) || length < 0) throw new S3Refusal(400, 'InvalidArgument', 'invalid Content-Length');
    if (length > MAX_PUT_BYTES) throw new S3Refusal(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    const conditional = req.headers['if-none-match'];
    if (conditional !== undefined && conditional !== '*') {
      throw new S3Refusal(501, 'NotImplemented', 'If-None-Match on PUT supports only "*"');
    }
    const body = await readBody(req, length);
    const checksum = req.headers['x-amz-checksum-sha256'];
    await withKeyLock(path, async () => {
      // The precondition first: a used slot answers 412 whatever bytes are sent to it.
      if (conditional === '*' && (await exists(path))) {
        throw new S3Refusal(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
          Condition: 'If-None-Match',
        });
      }
      if (typeof checksum === 'string' && sha256(body).toString('base64') !== checksum) {
        throw new S3Refusal(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
      }
      // Enforced here; s3rver is given a plain PUT of the verified bytes.
      const up = await forward(req, body, ['if-none-match', 'x-amz-checksum-sha256']);
      await new Promise<void>((resolve, reject) => {
        res.on('finish', resolve).on('close', resolve);
        up.on('error', reject);
        relay(up, res);
      });
    });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      verifyPresignedRequest(req, opts.credentials, now());
      if (req.method === 'PUT') return handlePut(req, res, path);
      relay(await forward(req, undefined), res);
    };
    handle().catch(async (e: unknown) => {
      // Read the rest of a refused body first, so the client sees the answer, not a reset.
      if (!req.complete) await new Promise((resolve) => req.resume().on('end', resolve).on('error', resolve).on('close', resolve));
      const refusal =
        e instanceof S3Refusal ? e : new S3Refusal(500, 'InternalError', `the S3 guard failed: ${(e as Error)?.message ?? String(e)}`);
      if (e instanceof S3Refusal) log(`s3 guard: ${req.method} ${path} refused: ${refusal.status} ${refusal.code}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const extra = Object.entries(refusal.extra)
        .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
        .join('');
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message>${extra}<Resource>${escapeXml(path)}</Resource></Error>`;
      res.writeHead(refusal.status, { 'content-type': 'application/xml' });
      res.end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
