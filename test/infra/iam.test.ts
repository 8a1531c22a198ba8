/**
 * IAM, checked locally: the scenario suite runs on one embedded stack, which
 * records every S3, DynamoDB and Step Functions request each function makes (and
 * every URL it presigns); the synthesized template must grant each function every
 * action on every bucket prefix, table and state machine it used. A missing grant fails with the
 * function, action and resource named; grants never used are listed.
 */
// First: the scenario suite loads the API, whose zod-openapi extension must be in place before any schema is built.
import { runScenarioSuite, type ScenarioSuiteResult } from '../support/scenario-suite.js';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedAccess } from '../../functions/adapters/request-recorder.js';
import { seededRandomSource } from '../../functions/domain/index.js';
import { BUCKETS, FUNCTIONS, MAIN_TABLE } from '../../infra/definitions.js';
import { LEDGER_DENIED_ACTIONS, LEDGER_LEADING_KEYS } from '../../infra/function-access.js';
import { GoldlineStack } from '../../infra/goldline-stack.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { asInAws, checkGrants, grantsOfRole, type PolicyStatement, resolveResource, type TemplateIds, type TemplateJson } from '../support/iam-grants.js';

type BucketName = keyof typeof BUCKETS;

function synthesize(): { template: TemplateJson; ids: TemplateIds } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new GoldlineStack(app, 'Goldline');
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  return {
    template: Template.fromStack(stack).toJSON() as TemplateJson,
    ids: {
      roles: Object.fromEntries(FUNCTIONS.map((f) => [f.name, id(stack.functions[f.name].role!)])),
      buckets: Object.fromEntries((Object.keys(BUCKETS) as BucketName[]).map((n) => [n, id(stack.buckets[n])])),
      tables: { [MAIN_TABLE.id]: id(stack.table) },
      stateMachines: { batchLifecycle: id(stack.batchLifecycle), roundDispatch: id(stack.roundDispatch) },
    },
  };
}

/** A copy of the template without `action` on resources containing `resourcePart` in `fn`'s policies. */
function withoutGrant(template: TemplateJson, ids: TemplateIds, fn: string, action: string, resourcePart: string): { template: TemplateJson; removed: number } {
  const copy = structuredClone(template);
  let removed = 0;
  for (const res of Object.values(copy.Resources)) {
    if (res.Type !== 'AWS::IAM::Policy' && res.Type !== 'AWS::IAM::ManagedPolicy') continue;
    if (!JSON.stringify(res.Properties?.Roles).includes(`"${ids.roles[fn]}"`)) continue;
    const doc = res.Properties!.PolicyDocument as { Statement: PolicyStatement[] };
    const out: PolicyStatement[] = [];
    for (const s of doc.Statement) {
      const actions = [s.Action].flat();
      const resources = [s.Resource].flat();
      const hit = resources.filter((r) => resolveResource(r).includes(resourcePart));
      if (!actions.includes(action) || hit.length === 0) {
        out.push(s);
        continue;
      }
      removed++;
      // Keep the rest of the statement: other actions on every resource, this action on the others.
      const others = actions.filter((a) => a !== action);
      if (others.length) out.push({ ...s, Action: others });
      const rest = resources.filter((r) => !hit.includes(r));
      if (rest.length) out.push({ ...s, Action: action, Resource: rest });
    }
    doc.Statement = out;
  }
  return { template: copy, removed };
}

describe('IAM: every request a function makes on the embedded stack is granted in the template', () => {
  let stack: LocalStack;
  let suite: ScenarioSuiteResult;
  let accesses: RecordedAccess[];
  let template: TemplateJson;
  let ids: TemplateIds;

  beforeAll(async () => {
    ({ template, ids } = synthesize());
    stack = await startLocalStack({ random: seededRandomSource(2027) });
    suite = await runScenarioSuite(stack);
    accesses = asInAws(stack.accesses.accesses());
  }, 120_000);
  afterAll(async () => stack?.stop());

  it('runs every function in the scenarios, through every outcome they cover', () => {
    const ran = new Set(accesses.map((a) => a.fn).filter(Boolean));
    // The Api function's grants are checked over its routes in test/infra/api.test.ts.
    expect(FUNCTIONS.map((f) => f.name).filter((n) => n !== 'Api' && !ran.has(n))).toEqual([]);
    const statuses = new Set(Object.values(suite.batches).flat().map((b) => b.status));
    for (const s of ['accepted', 'rejected', 'overdue', 'failed']) expect(statuses, s).toContain(s);
    expect(suite.adjudications.decided).toBeGreaterThan(0);
    expect(suite.adjudications.expired).toBeGreaterThan(0);
  });

  it('grants each function every action it used, on the bucket prefix or table it used it on', () => {
    const check = checkGrants(template, ids, accesses);
    console.log(`IAM check — used by the functions in the scenarios:\n  ${check.used.join('\n  ')}`);
    console.log(`IAM check — granted but not used in the scenarios (${check.unused.length}):\n  ${check.unused.join('\n  ')}`);
    console.log(`IAM check — made outside any deployed function (not checked):\n  ${check.outside.join('\n  ')}`);
    expect(check.missing).toEqual([]);
  });

  it('records no function updating, deleting or batch-writing a ledger item in the scenarios (appends are PutItem)', () => {
    const onLedger = accesses.filter((a) => (LEDGER_DENIED_ACTIONS as readonly string[]).includes(a.action) && a.leadingKeys?.some((k) => k.startsWith('LEDGER#')));
    expect(onLedger).toEqual([]);
    expect(accesses.some((a) => a.action === 'dynamodb:UpdateItem' && a.leadingKeys?.includes('BATCH#<id>'))).toBe(true);
  });

  // Finding 12 (issue 7): CheckAgreement (now a part of CompleteBatch) read masks from the uploads bucket but was granted only gold; nothing checked grants locally.
  it('grants CompleteBatch read on the uploads bucket its agreement check reads masks from', () => {
    const reads = accesses.filter((a) => a.fn === 'CompleteBatch' && a.action === 's3:GetObject' && a.resource.kind === 'object' && a.resource.bucket === 'uploads');
    expect(reads.length).toBeGreaterThan(0);
    expect(checkGrants(template, ids, reads).missing).toEqual([]);
  });

  it('fails, naming the function, action and resource, when one grant the scenarios need is removed', () => {
    const uploads = `{${ids.buckets.uploads}.Arn}/`;
    const cut = withoutGrant(template, ids, 'CompleteBatch', 's3:GetObject', uploads);
    expect(cut.removed).toBe(1);
    const check = checkGrants(cut.template, ids, accesses);
    expect(check.missing).toHaveLength(1);
    expect(check.missing[0]).toMatch(/^CompleteBatch needs s3:GetObject on bucket uploads uploads\/ \(GetObject\), e\.g\. uploads\/[a-z-]+\/[a-z0-9-]+\/\w+\.jsonl/);

    const gold = `{${ids.buckets.gold}.Arn}/`;
    const ingest = withoutGrant(template, ids, 'IngestUpload', 's3:GetObject', gold);
    expect(ingest.removed).toBe(1);
    expect(checkGrants(ingest.template, ids, accesses).missing.join('\n')).toMatch(/^IngestUpload needs s3:GetObject on bucket gold batch-/);
  });
});

describe('IAM: the ledger is append-only for every function (synthesized template)', () => {
  let template: TemplateJson;
  let ids: TemplateIds;

  beforeAll(() => {
    ({ template, ids } = synthesize());
  });

  it('denies UpdateItem, DeleteItem and BatchWriteItem on LEDGER# keys of the table in every function role', () => {
    const table = `{${ids.tables[MAIN_TABLE.id]}.Arn}`;
    const without = FUNCTIONS.filter((f) => {
      const denies = grantsOfRole(template, ids.roles[f.name]).filter((g) => g.effect === 'Deny' && g.resources.includes(table));
      return !denies.some(
        (g) =>
          LEDGER_DENIED_ACTIONS.every((a) => g.actions.includes(a)) &&
          JSON.stringify(g.condition) === JSON.stringify({ 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [LEDGER_LEADING_KEYS] } }),
      );
    });
    expect(FUNCTIONS.length).toBeGreaterThan(10);
    expect(without.map((f) => f.name)).toEqual([]);
  });

  it('refuses a function an UpdateItem on a ledger key that its table grant would otherwise allow', () => {
    const access = (leadingKeys: string[]): RecordedAccess => ({
      fn: 'CompleteBatch',
      service: 'dynamodb',
      action: 'dynamodb:UpdateItem',
      operation: 'UpdateItem',
      resource: { kind: 'table', table: MAIN_TABLE.id },
      via: 'call',
      leadingKeys,
    });

    expect(checkGrants(template, ids, [access(['BATCH#<id>'])]).missing).toEqual([]);
    expect(checkGrants(template, ids, [access(['LEDGER#<id>'])]).missing).toEqual([`CompleteBatch needs dynamodb:UpdateItem on table ${MAIN_TABLE.id} keys LEDGER#<id> (UpdateItem)`]);
  });
});
