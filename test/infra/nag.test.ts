/**
 * cdk-nag AwsSolutions and HIPAA Security on the Goldline app.
 *
 * cdk-nag 3 is a CDK policy-validation plugin: its findings are not construct
 * annotations but entries of `validation-report.json` in the cloud assembly,
 * so that report is what these tests read. Acknowledgements are construct
 * metadata written by `Validations.of(x).acknowledge({ id, reason })`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp, STACK_NAME } from '../../infra/app.js';
import { GoldlineStack } from '../../infra/goldline-stack.js';

interface Finding {
  plugin: string;
  rule: string;
  severity: string;
  path: string;
}
interface Report {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}
interface Acknowledgement {
  rule: string;
  reason: string;
  path: string;
}

const CONTEXT = {
  'aws:cdk:bundling-stacks': [],
  // Write the report instead of throwing on the first failed synth, so a
  // failure lists every finding.
  '@aws-cdk/core:failSynthOnValidationErrors': false,
};
const NAG_PACKS = ['AwsSolutions', 'HIPAA.Security'];

function findings(app: App): Finding[] {
  const report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8')) as Report;
  return report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => ({ plugin: p.pluginName, rule: v.ruleName, severity: v.severity, path: c.constructPath })),
    ),
  );
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      // Stored as `Annotation::<rule id>` (the namespace CDK gives ids without one).
      .map(([id, reason]) => ({ rule: id.replace(/^annotation::/i, ''), reason, path: c.node.path })),
  );
}

/** The same packs with acknowledgements ignored: every finding the stack would have. */
function rawFindings(): Finding[] {
  class AllAwsSolutions extends AwsSolutionsChecks {}
  class AllHipaaSecurity extends HIPAASecurityChecks {}
  for (const pack of [AllAwsSolutions, AllHipaaSecurity]) {
    Object.defineProperty(pack.prototype, 'isAcknowledged', { value: () => false });
  }
  const app = new App({ context: CONTEXT, builtinCloudFormationValidation: false });
  new GoldlineStack(app, STACK_NAME);
  Validations.of(app).addPlugins(new AllAwsSolutions(app), new AllHipaaSecurity(app));
  return findings(app).filter((f) => NAG_PACKS.includes(f.plugin));
}

const describeFinding = (f: Finding) => `${f.severity} ${f.rule} at ${f.path}`;

describe('cdk-nag: AwsSolutions and HIPAA Security', () => {
  let app: App;
  let stack: GoldlineStack;
  let reported: Finding[];
  let acks: Acknowledgement[];
  let raw: Finding[];

  beforeAll(() => {
    ({ app, stack } = createApp({ context: CONTEXT }));
    reported = findings(app);
    acks = acknowledgements(stack);
    raw = rawFindings();
  });

  it('runs both rule packs on the app', () => {
    expect(new Set(raw.map((f) => f.plugin))).toEqual(new Set(NAG_PACKS));
  });

  it('leaves no unacknowledged error or warning, from cdk-nag or the built-in template validation', () => {
    expect(reported.map(describeFinding)).toEqual([]);
    // Nor any CDK annotation (deprecated props, unsupported settings).
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('writes a reason of a sentence or more for every acknowledgement', () => {
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      const words = a.reason.trim().split(/\s+/).length;
      expect(words, `${a.rule} at ${a.path}: "${a.reason}"`).toBeGreaterThanOrEqual(12);
    }
  });

  it('acknowledges only findings that exist, on the construct they concern (no stale acknowledgement)', () => {
    const stale = acks.filter((a) => !raw.some((f) => f.rule === a.rule && (f.path === a.path || f.path.startsWith(`${a.path}/`))));
    expect(stale.map((a) => `${a.rule} at ${a.path}`)).toEqual([]);
  });

  it('acknowledges nothing at stack level: each acknowledgement sits on the resource it explains', () => {
    expect(acks.filter((a) => a.path === stack.node.path)).toEqual([]);
  });

  it('fixes, rather than acknowledges, the storage, logging and workflow rules', () => {
    const fixed = [
      /^AwsSolutions-(S1|S2|S10|DDB3|SQS3|SQS4|SF1|SF2|KMS5)$/,
      /^AwsSolutions-IAM4\[.*AWSLambdaBasicExecutionRole\]$/,
      /^AwsSolutions-IAM5\[Action::/,
      /^HIPAA\.Security-(S3BucketSSLRequestsOnly|S3BucketVersioningEnabled|S3BucketLoggingEnabled|S3BucketLevelPublicAccessProhibited)$/,
      /^HIPAA\.Security-(DynamoDBPITREnabled|DynamoDBInBackupPlan|CloudWatchLogGroupEncrypted|CloudWatchLogGroupRetentionPeriod)$/,
    ];
    const ackedFixed = acks.filter((a) => fixed.some((re) => re.test(a.rule)));
    expect(ackedFixed.map((a) => `${a.rule} at ${a.path}`)).toEqual([]);
    const rawFixed = raw.filter((f) => fixed.some((re) => re.test(f.rule)));
    expect(rawFixed.map(describeFinding)).toEqual([]);
  });
});
