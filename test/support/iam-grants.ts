/**
 * IAM grants of the synthesized template, per function, compared with what each
 * function really did on the embedded stack (functions/adapters/request-recorder.ts).
 *
 * A policy resource is resolved to a string with logical ids in braces
 * (`{GoldBucket1234.Arn}/batch-aliases/*`, `{Main5678.Arn}/index/gsi1`), so a
 * recorded access — bucket + object key, or table + index, by logical name — is
 * matched against it with IAM's wildcards (`*`, `?`), the action likewise.
 */
import type { RecordedAccess } from '../../functions/adapters/request-recorder.js';

type Json = Record<string, unknown>;
export interface TemplateJson {
  Resources: Record<string, { Type: string; Properties?: Json }>;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

/** One statement of a role's policies, resources resolved. */
export interface Grant {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  conditional: boolean;
  /** The statement's Condition block, if any. */
  condition?: Json;
  /** Logical id of the policy it came from. */
  policy: string;
}

/** Logical ids of what the recorded names mean in the template. */
export interface TemplateIds {
  /** Function name → logical id of its role. */
  roles: Readonly<Record<string, string>>;
  /** Bucket logical name (images, uploads, gold, exports) → logical id. */
  buckets: Readonly<Record<string, string>>;
  /** Table id (definitions.ts) → logical id. */
  tables: Readonly<Record<string, string>>;
  /** State machine key (STATE_MACHINES) → logical id. */
  stateMachines: Readonly<Record<string, string>>;
}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** A policy resource as a string: `{Id.Arn}` for Fn::GetAtt, `{Id}` for Ref, Fn::Join joined. */
export function resolveResource(r: unknown): string {
  if (typeof r === 'string') return r;
  const o = r as Json;
  if (Array.isArray(o['Fn::GetAtt'])) return `{${(o['Fn::GetAtt'] as string[]).join('.')}}`;
  if (typeof o.Ref === 'string') return `{${o.Ref}}`;
  if (Array.isArray(o['Fn::Join'])) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveResource).join(sep);
  }
  return JSON.stringify(r);
}

/** Statements of the inline and customer-managed policies attached to a role. */
export function grantsOfRole(template: TemplateJson, roleId: string): Grant[] {
  const out: Grant[] = [];
  for (const [id, res] of Object.entries(template.Resources)) {
    if (res.Type !== 'AWS::IAM::Policy' && res.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = asArray(res.Properties?.Roles as unknown[]);
    if (!roles.some((r) => resolveResource(r) === `{${roleId}}`)) continue;
    const doc = res.Properties?.PolicyDocument as { Statement: PolicyStatement[] };
    for (const s of doc.Statement) {
      out.push({
        effect: s.Effect,
        actions: asArray(s.Action),
        resources: asArray(s.Resource as unknown[]).map(resolveResource),
        conditional: s.Condition !== undefined,
        ...(s.Condition !== undefined ? { condition: s.Condition } : {}),
        policy: id,
      });
    }
  }
  return out;
}

const globRe = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
const globMatch = (pattern: string, value: string): boolean => globRe(pattern).test(value);

/** The ARN (in resolveResource's notation) a recorded access needs. */
export function resourceOf(a: RecordedAccess, ids: TemplateIds): string {
  const r = a.resource;
  if (r.kind === 'stateMachine') return `{${ids.stateMachines[r.stateMachine] ?? `unknown-state-machine:${r.stateMachine}`}}`;
  if (r.kind === 'table') {
    const t = ids.tables[r.table] ?? `unknown-table:${r.table}`;
    return r.index ? `{${t}.Arn}/index/${r.index}` : `{${t}.Arn}`;
  }
  const b = ids.buckets[r.bucket] ?? `unknown-bucket:${r.bucket}`;
  return r.kind === 'bucket' ? `{${b}.Arn}` : `{${b}.Arn}/${r.key}`;
}

/**
 * The accesses as AWS would see them. The uploads bucket is versioned in AWS and
 * every step reads the version that was ingested (the S3 event's version-id, then
 * the submission's, and the expert's presigned GETs of competing uploads): the
 * same GetObject names a VersionId there and needs s3:GetObjectVersion. The
 * embedded s3rver keeps no versions, so locally the request carries none.
 */
export function asInAws(accesses: readonly RecordedAccess[]): RecordedAccess[] {
  return accesses.flatMap((a) =>
    a.action === 's3:GetObject' && a.resource.kind === 'object' && a.resource.bucket === 'uploads'
      ? [a, { ...a, action: 's3:GetObjectVersion' }]
      : [a],
  );
}

/**
 * Whether a Deny's condition holds for a request. Evaluated: `ForAnyValue:StringLike` on
 * `dynamodb:LeadingKeys` against the partition keys the request wrote (none recorded: the key is
 * absent and ForAnyValue is false). Any other condition is taken to hold: a Deny the check cannot
 * evaluate counts against the request, so it fails loudly rather than passing by accident.
 */
function denyConditionHolds(condition: Json | undefined, leadingKeys: readonly string[] | undefined): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition).every(([operator, tests]) =>
    Object.entries(tests as Json).every(([key, patterns]) => {
      if (operator !== 'ForAnyValue:StringLike' || key !== 'dynamodb:LeadingKeys') return true;
      return (leadingKeys ?? []).some((k) => asArray(patterns as string | string[]).some((p) => globRe(p).test(k)));
    }),
  );
}

/**
 * Whether the grants allow `action` on `resource`: an unconditional Allow matches and no Deny
 * does (a conditional Deny matches when its condition holds for the request's `leadingKeys`).
 */
export function allows(grants: readonly Grant[], action: string, resource: string, leadingKeys?: readonly string[]): boolean {
  const matches = (g: Grant) => g.actions.some((p) => globMatch(p, action)) && g.resources.some((p) => globMatch(p, resource));
  if (grants.some((g) => g.effect === 'Deny' && matches(g) && denyConditionHolds(g.condition, leadingKeys))) return false;
  return grants.some((g) => g.effect === 'Allow' && !g.conditional && matches(g));
}

/** `gold batch-aliases/`: the bucket and the first segment of the key, as people say it. */
export function describeResource(a: RecordedAccess): string {
  const r = a.resource;
  if (r.kind === 'stateMachine') return `state machine ${r.stateMachine}`;
  if (r.kind === 'table') return `table ${r.table}${r.index ? ` index ${r.index}` : ''}`;
  if (r.kind === 'bucket') return `bucket ${r.bucket}`;
  const slash = r.key.indexOf('/');
  return `bucket ${r.bucket} ${slash < 0 ? r.key : r.key.slice(0, slash + 1)}`;
}

export interface GrantCheck {
  /** Used but not granted, one line per (function, action, bucket prefix | table): a failure. */
  missing: string[];
  /** Granted (S3, DynamoDB and Step Functions actions) but never used in the scenarios: listed, not a failure. */
  unused: string[];
  /** What each function used, one line per (function, action, resource, via). */
  used: string[];
  /** Requests made outside any function (tests, the demo, vendor-portal and setup use cases no deployed function serves yet). */
  outside: string[];
}

const SERVICES = /^(s3|dynamodb|states):/i;

/**
 * Compares recorded accesses of functions with the template's grants. Accesses
 * made outside any function (tests, the demo's operator and vendor calls) are
 * ignored: no deployed role makes them.
 */
export function checkGrants(template: TemplateJson, ids: TemplateIds, accesses: readonly RecordedAccess[]): GrantCheck {
  const byFn = new Map<string, Grant[]>();
  const grantsOf = (fn: string): Grant[] => {
    let g = byFn.get(fn);
    if (!g) {
      const role = ids.roles[fn];
      g = role ? grantsOfRole(template, role) : [];
      byFn.set(fn, g);
    }
    return g;
  };
  const missing = new Map<string, { keys: Set<string> }>();
  const outside = new Set(
    accesses.filter((a) => a.fn === undefined).map((a) => `${a.action} on ${describeResource(a)}${a.via === 'presign' ? ' (presigned)' : ''}`),
  );
  const used = new Set<string>();
  const attributed = accesses.filter((a): a is RecordedAccess & { fn: string } => a.fn !== undefined);
  for (const a of attributed) {
    const where = describeResource(a);
    used.add(`${a.fn}: ${a.action} on ${where}${a.via === 'presign' ? ' (presigned URL: used with its credentials)' : ''}`);
    if (allows(grantsOf(a.fn), a.action, resourceOf(a, ids), a.leadingKeys)) continue;
    const keys = a.leadingKeys?.length ? ` keys ${a.leadingKeys.join(', ')}` : '';
    const line = `${a.fn} needs ${a.action} on ${where}${keys}${a.via === 'presign' ? ' (it presigns URLs for it)' : ''} (${a.operation})${ids.roles[a.fn] ? '' : ' — no role for this function in the template'}`;
    const m = missing.get(line) ?? { keys: new Set<string>() };
    if (a.resource.kind === 'object') m.keys.add(a.resource.key);
    missing.set(line, m);
  }
  const unused: string[] = [];
  for (const fn of Object.keys(ids.roles).sort()) {
    const mine = attributed.filter((a) => a.fn === fn);
    for (const g of grantsOf(fn).filter((x) => x.effect === 'Allow')) {
      for (const action of g.actions.filter((x) => SERVICES.test(x))) {
        for (const resource of g.resources) {
          const hit = mine.some((a) => globMatch(action, a.action) && globMatch(resource, resourceOf(a, ids)));
          if (!hit) unused.push(`${fn}: ${action} on ${resource}`);
        }
      }
    }
  }
  return {
    missing: [...missing.entries()].map(([line, m]) => (m.keys.size ? `${line}, e.g. ${[...m.keys].slice(0, 2).join(', ')}` : line)).sort(),
    unused,
    used: [...used].sort(),
    outside: [...outside].sort(),
  };
}
