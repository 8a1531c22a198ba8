/**
 * The Goldline CDK app: one env-agnostic GoldlineStack (no account or region
 * lookups, so `npm run synth` works offline), checked by cdk-nag AwsSolutions
 * and HIPAA Security on every synth. An unacknowledged finding fails the synth.
 *
 * @example
 * npx cdk synth --quiet     # cdk.json runs this file with tsx
 */
import { pathToFileURL } from 'node:url';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { GoldlineStack, type GoldlineStackProps } from './goldline-stack.js';

export const STACK_NAME = 'Goldline';

/**
 * Reserved concurrency per function from context, e.g.
 * `npx cdk deploy -c goldline:reservedConcurrency='{"IngestUpload":20}'`.
 */
function reservedConcurrency(app: App): Record<string, number> | undefined {
  const raw: unknown = app.node.tryGetContext('goldline:reservedConcurrency');
  if (raw === undefined) return undefined;
  const value: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  const valid =
    typeof value === 'object' && value !== null && Object.values(value).every((n) => Number.isInteger(n) && (n as number) >= 0);
  if (!valid) throw new Error('goldline:reservedConcurrency must map function names to non-negative integers');
  return value as Record<string, number>;
}

/** The app and its stack, with both rule packs registered (tests use this too). */
export function createApp(appProps: AppProps = {}, stackProps: GoldlineStackProps = {}): { app: App; stack: GoldlineStack } {
  const app = new App(appProps);
  const stack = new GoldlineStack(app, STACK_NAME, {
    description: 'Goldline: hybrid medical image annotation operations (hidden gold, scoring, rebalancing)',
    reservedConcurrency: reservedConcurrency(app),
    ...stackProps,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  return { app, stack };
}

// Run by the CDK CLI (`npx tsx infra/app.ts`): the App synthesizes on exit.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  createApp();
}
