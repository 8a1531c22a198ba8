/**
 * Records which AWS resources each function touches, as an SDK middleware: the
 * function (from the async context its handler runs in), the IAM action the
 * request needs, and the resource (bucket + object key, or table + index).
 * The embedded stack attaches it to its clients so a test can compare what each
 * function really used with what the synthesized template grants it (IAM is not
 * checked locally). It does not change a request.
 *
 * A presigned URL is not a request: it is signed, and S3 authorizes the later
 * GET or PUT with the signer's credentials, so the presigning function needs the
 * action on that key. Presigns are recorded with `via: 'presign'`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskCallbacks, WorkflowStarter } from '../use-cases/ports.js';

export type RecordedService = 's3' | 'dynamodb' | 'states';

/** The resource a request touched, by logical name (as definitions.ts names it). */
export type RecordedResource =
  | { kind: 'bucket'; bucket: string }
  | { kind: 'object'; bucket: string; key: string }
  | { kind: 'table'; table: string; index?: string }
  | { kind: 'stateMachine'; stateMachine: string };

export interface RecordedAccess {
  /** FunctionDefinition name, or undefined for a call made outside any function (tests, demo, operators' use cases). */
  fn: string | undefined;
  service: RecordedService;
  /** IAM action, e.g. `s3:GetObject`, `dynamodb:Query`. */
  action: string;
  /** SDK operation that needed it, e.g. `CopyObject`, `HeadObject`. */
  operation: string;
  resource: RecordedResource;
  via: 'call' | 'presign';
  /**
   * DynamoDB UpdateItem, DeleteItem and BatchWriteItem: the partition keys written, as IAM's
   * `dynamodb:LeadingKeys` sees them, the id part generalised (`LEDGER#<id>`), so a conditional
   * Deny on ledger keys can be checked against what a function really did.
   */
  leadingKeys?: string[];
}

type Next = (args: unknown) => Promise<unknown>;
type Middleware = (next: Next, context: Record<string, unknown>) => Next;
interface MiddlewareClient {
  middlewareStack: { add: (middleware: never, options: never) => void };
}

export interface RecorderNames {
  /** Physical bucket name → logical name (images, uploads, gold, exports). */
  buckets: Readonly<Record<string, string>>;
  /** Physical table name → logical id (Main). */
  tables: Readonly<Record<string, string>>;
}

/** S3 operations by the IAM action they need (docs: "Actions, resources and condition keys for Amazon S3"). */
const S3_OBJECT_READS = new Set(['GetObject', 'HeadObject', 'GetObjectAttributes']);
const S3_OBJECT_WRITES = new Set(['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']);
/** Item writes whose partition key is recorded (the ones a Deny on ledger keys names; see goldline-stack.ts). */
const KEYED_WRITES = new Set(['UpdateItem', 'DeleteItem']);
interface BatchWriteRequest {
  PutRequest?: { Item?: { pk?: unknown } };
  DeleteRequest?: { Key?: { pk?: unknown } };
}

/**
 * A partition key (plain, or marshalled `{ S }`) with its id generalised: `LEDGER#demo` → `LEDGER#<id>`,
 * `PROGRAMS` unchanged. IAM matches `dynamodb:LeadingKeys` patterns such as `LEDGER#*` against it.
 */
export function leadingKeyClass(pk: unknown): string {
  const value = typeof pk === 'string' ? pk : typeof (pk as { S?: unknown })?.S === 'string' ? (pk as { S: string }).S : '?';
  const hash = value.indexOf('#');
  return hash < 0 ? value : `${value.slice(0, hash + 1)}<id>`;
}

const isMissing = (e: unknown): boolean => ['NoSuchKey', 'NotFound'].includes((e as { name?: string })?.name ?? '');

export class RequestRecorder {
  private readonly current = new AsyncLocalStorage<string>();
  private readonly seen = new Map<string, RecordedAccess>();
  /**
   * Off: nothing is kept. The record holds one entry per distinct object key and
   * leading key, so it grows with the work done; a bench that measures memory
   * over a large round turns it off.
   */
  enabled = true;

  constructor(private readonly names: RecorderNames) {}

  /** Runs `work` as function `fn`: every request it makes (however deep) is recorded under that name. */
  runAs<T>(fn: string, work: () => Promise<T>): Promise<T> {
    return this.current.run(fn, work);
  }

  /** A handler that runs as function `fn`. */
  bind<E, O>(fn: string, handler: (event: E) => Promise<O>): (event: E) => Promise<O> {
    return (event) => this.runAs(fn, () => handler(event));
  }

  /** Adds the recording middleware to a client; returns the client. */
  attach<C extends MiddlewareClient>(client: C, service: RecordedService): C {
    const middleware: Middleware = (next, context) => async (args) => {
      const fn = this.current.getStore();
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      const input = ((args as { input?: Record<string, unknown> }).input ?? {}) as Record<string, unknown>;
      let result: unknown;
      try {
        result = await next(args);
      } catch (e) {
        // A read of a missing key answers NoSuchKey only with s3:ListBucket
        // (otherwise AccessDenied): the use cases rely on "not there yet".
        this.recordAll(fn, service, operation, input, 'call');
        if (service === 's3' && isMissing(e) && typeof input.Bucket === 'string') {
          this.add({ fn, service, action: 's3:ListBucket', operation, resource: { kind: 'bucket', bucket: this.bucket(input.Bucket) }, via: 'call' });
        }
        throw e;
      }
      const presigned = (result as { output?: { presigned?: unknown } } | undefined)?.output?.presigned !== undefined;
      this.recordAll(fn, service, operation, input, presigned ? 'presign' : 'call');
      return result;
    };
    client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'goldlineRequestRecorder', override: true } as never);
    return client;
  }

  /**
   * Task-token callbacks that record `states:SendTask*` on the state machine
   * (the embedded stack serves them in process, with no SDK client to attach to).
   */
  recordingCallbacks(callbacks: TaskCallbacks, stateMachine: string): TaskCallbacks {
    const resource: RecordedResource = { kind: 'stateMachine', stateMachine };
    return {
      success: (token, output) => {
        this.note('states:SendTaskSuccess', 'SendTaskSuccess', resource);
        return callbacks.success(token, output);
      },
      heartbeat: (token) => {
        this.note('states:SendTaskHeartbeat', 'SendTaskHeartbeat', resource);
        return callbacks.heartbeat(token);
      },
    };
  }

  /** A workflow starter that records `states:StartExecution` on the state machine. */
  recordingStarter(starter: WorkflowStarter, stateMachine: string): WorkflowStarter {
    return {
      startBatch: (name, input) => {
        this.note('states:StartExecution', 'StartExecution', { kind: 'stateMachine', stateMachine });
        return starter.startBatch(name, input);
      },
    };
  }

  /** Distinct accesses, in a stable order. */
  accesses(): RecordedAccess[] {
    return [...this.seen.values()].sort((a, b) => accessKey(a).localeCompare(accessKey(b)));
  }

  reset(): void {
    this.seen.clear();
  }

  private note(action: string, operation: string, resource: RecordedResource): void {
    this.add({ fn: this.current.getStore(), service: 'states', action, operation, resource, via: 'call' });
  }

  private add(a: RecordedAccess): void {
    if (!this.enabled) return;
    const k = accessKey(a);
    if (!this.seen.has(k)) this.seen.set(k, a);
  }

  private bucket(physical: string): string {
    return this.names.buckets[physical] ?? `unknown bucket ${physical}`;
  }

  private table(physical: string): string {
    return this.names.tables[physical] ?? `unknown table ${physical}`;
  }

  private recordAll(fn: string | undefined, service: RecordedService, operation: string, input: Record<string, unknown>, via: RecordedAccess['via']): void {
    const needs: [string, RecordedResource, string[]?][] = service === 's3' ? this.s3Needs(operation, input) : this.dynamoNeeds(operation, input);
    for (const [action, resource, leadingKeys] of needs) {
      this.add({ fn, service, action, operation, resource, via, ...(leadingKeys ? { leadingKeys } : {}) });
    }
  }

  private s3Needs(operation: string, input: Record<string, unknown>): [string, RecordedResource][] {
    const bucket = typeof input.Bucket === 'string' ? this.bucket(input.Bucket) : 'unknown bucket';
    const object = (key: unknown): RecordedResource => ({ kind: 'object', bucket, key: String(key ?? '') });
    const versioned = input.VersionId !== undefined;
    if (S3_OBJECT_READS.has(operation)) return [[versioned ? 's3:GetObjectVersion' : 's3:GetObject', object(input.Key)]];
    if (S3_OBJECT_WRITES.has(operation)) return [['s3:PutObject', object(input.Key)]];
    if (operation === 'CopyObject') {
      // CopySource: "<bucket>/<url-encoded key>[?versionId=…]": read the source, write the target.
      const source = String(input.CopySource ?? '');
      const [path, query = ''] = source.replace(/^\//, '').split('?');
      const slash = path.indexOf('/');
      const srcBucket = this.bucket(path.slice(0, slash));
      const srcKey = decodeURIComponent(path.slice(slash + 1));
      const read = query.includes('versionId=') ? 's3:GetObjectVersion' : 's3:GetObject';
      return [
        [read, { kind: 'object', bucket: srcBucket, key: srcKey }],
        ['s3:PutObject', object(input.Key)],
      ];
    }
    if (operation === 'DeleteObject') return [[versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', object(input.Key)]];
    if (operation === 'ListObjectsV2' || operation === 'ListObjects') return [['s3:ListBucket', { kind: 'bucket', bucket }]];
    if (operation === 'ListObjectVersions') return [['s3:ListBucketVersions', { kind: 'bucket', bucket }]];
    return [[`s3:${operation}`, { kind: 'bucket', bucket }]];
  }

  private dynamoNeeds(operation: string, input: Record<string, unknown>): [string, RecordedResource, string[]?][] {
    const action = `dynamodb:${operation}`;
    if (typeof input.TableName === 'string') {
      const index = typeof input.IndexName === 'string' ? input.IndexName : undefined;
      const keys = KEYED_WRITES.has(operation) ? [leadingKeyClass((input.Key as Record<string, unknown> | undefined)?.pk)] : undefined;
      return [[action, { kind: 'table', table: this.table(input.TableName), ...(index ? { index } : {}) }, keys]];
    }
    // BatchWriteItem / BatchGetItem: one table per RequestItems key.
    const requests = (input.RequestItems ?? {}) as Record<string, unknown>;
    return Object.keys(requests).map((t) => {
      const keys =
        operation === 'BatchWriteItem'
          ? [...new Set(((requests[t] ?? []) as BatchWriteRequest[]).map((r) => leadingKeyClass(r.PutRequest?.Item?.pk ?? r.DeleteRequest?.Key?.pk)))].sort()
          : undefined;
      return [action, { kind: 'table', table: this.table(t) }, keys];
    });
  }
}

function accessKey(a: RecordedAccess): string {
  const r = a.resource;
  const res =
    r.kind === 'table'
      ? `table:${r.table}/${r.index ?? ''}`
      : r.kind === 'bucket'
        ? `bucket:${r.bucket}`
        : r.kind === 'stateMachine'
          ? `stateMachine:${r.stateMachine}`
          : `object:${r.bucket}/${r.key}`;
  return [a.fn ?? '', a.service, a.action, res, a.via, a.operation, (a.leadingKeys ?? []).join(',')].join('\u0000');
}
