/**
 * Crash points of the embedded stack: the whole process is killed (SIGKILL, as
 * a power cut would) at the N-th AWS write request, or at a named point, so a
 * test can resume the demo from a crash in every step. Off unless set:
 *   GOLDLINE_CRASH_AFTER_WRITES=N   killed just before its N-th DynamoDB/S3 write request
 *   GOLDLINE_CRASH_AT=<step>:<k>    killed just before the k-th write request made in <step>
 *   GOLDLINE_CRASH_AT=<step>:<Operation>:<k>  … before the k-th such request (PutItem, CopyObject, …) in <step>
 *   GOLDLINE_CRASH_AT=<step>:entry  killed when <step> first starts
 *   …:<k>@<text>                    count only the step's writes whose target key contains <text>
 *                                   (e.g. score:UpdateItem:2@BATCH#demo-cxr-r1-vendor-b-1: that batch's
 *                                   second status change in the step), so a point names one item
 *   …+<m>                           let that write through, then kill before the m-th write made in
 *                                   the same step after it (e.g. inside the case writes that follow
 *                                   finalize:PutItem:1@r1-vendor-b-1:labels)
 *   GOLDLINE_CRASH_TRACE=1          print every write request (number, step, function, operation, key)
 *                                   on stderr, to choose points
 * Before dying the process prints one line on stderr, which names the step:
 *   `GOLDLINE_CRASH write #<n> in <step> (<function>) <service> <operation>`
 * Steps are the lifecycle functions grouped as a PM reads them (STEP_OF_FUNCTION; the
 * parts of CompleteBatch — SettleBatch, FinalizeBatch, CheckAgreement, Rebalance — each by its own),
 * plus what the demo runs itself: `setup`, `dispatch`, `vendor`. A write made
 * outside any of them counts as `api`: in the demo that is the HTTP API's work
 * (vendors' upload slots, the expert's decisions), served in the same process
 * but from its own sockets, so no step context reaches it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeSync } from 'node:fs';

/** The step a function's work belongs to. */
export const STEP_OF_FUNCTION: Readonly<Record<string, string>> = {
  DispatchRound: 'dispatch',
  PlanRound: 'dispatch',
  DispatchChunk: 'dispatch',
  PrepareManifest: 'manifest',
  AwaitSubmission: 'await',
  IngestUpload: 'ingest',
  ValidateSubmission: 'validate',
  ScoreSubmission: 'score',
  // CompleteBatch's parts (one function since issue 14), each under the step it was when it was a function of its own.
  SettleBatch: 'score',
  FinalizeBatch: 'finalize',
  CheckAgreement: 'adjudication',
  RequestAdjudication: 'adjudication',
  DecideAdjudication: 'adjudication',
  ApplyAdjudication: 'adjudication',
  ExpireAdjudication: 'adjudication',
  Rebalance: 'rebalance',
  MarkOverdue: 'overdue',
  RecordFailure: 'failure',
  Api: 'api',
};

/**
 * The step of a function: its group above; any other HTTP API function (`…Api`)
 * is `api`; a function added later, its name in lower case (still addressable).
 */
export function stepOfFunction(fn: string): string {
  return STEP_OF_FUNCTION[fn] ?? (fn.endsWith('Api') ? 'api' : fn.toLowerCase());
}

const WRITES: Readonly<Record<string, ReadonlySet<string>>> = {
  dynamodb: new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']),
  s3: new Set(['PutObject', 'CopyObject', 'DeleteObject', 'DeleteObjects', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']),
};

export type CrashPlan =
  | { kind: 'write'; n: number }
  | { kind: 'step-write'; step: string; operation?: string; k: number; target?: string; after?: number }
  | { kind: 'step-entry'; step: string };

/** The crash plan set in the environment, or undefined (no crash). Throws on a malformed value. */
export function crashPlanFromEnv(env: NodeJS.ProcessEnv): CrashPlan | undefined {
  const n = env.GOLDLINE_CRASH_AFTER_WRITES;
  const at = env.GOLDLINE_CRASH_AT;
  if (n !== undefined && n !== '') {
    if (!/^[1-9]\d*$/.test(n)) throw new Error(`GOLDLINE_CRASH_AFTER_WRITES must be a positive integer, got "${n}"`);
    return { kind: 'write', n: Number(n) };
  }
  if (at !== undefined && at !== '') {
    const m = /^([a-z]+):(?:entry|(?:([A-Z][A-Za-z]+):)?([1-9]\d*)(?:@([^\s+]+))?(?:\+([1-9]\d*))?)$/.exec(at);
    if (!m) {
      throw new Error(
        `GOLDLINE_CRASH_AT must be <step>:<k>, <step>:<Operation>:<k> or <step>:entry (a write point may add @<text> and +<m>), got "${at}"`,
      );
    }
    if (m[3] === undefined) return { kind: 'step-entry', step: m[1] };
    return {
      kind: 'step-write',
      step: m[1],
      ...(m[2] ? { operation: m[2] } : {}),
      k: Number(m[3]),
      ...(m[4] ? { target: m[4] } : {}),
      ...(m[5] ? { after: Number(m[5]) } : {}),
    };
  }
  return undefined;
}

type Next = (args: unknown) => Promise<unknown>;
type Middleware = (next: Next, context: Record<string, unknown>) => Next;
interface MiddlewareClient {
  middlewareStack: { add: (middleware: never, options: never) => void };
}

interface StepContext {
  step: string;
  fn: string;
}

/** The key a write request targets, for the trace: the S3 key, or the DynamoDB item's pk/sk. */
function targetOf(input: Record<string, unknown>): string {
  if (typeof input.Key === 'string') return String(input.Key);
  const item = (input.Item ?? input.Key) as Record<string, unknown> | undefined;
  const attr = (v: unknown): string => String((v as { S?: string } | undefined)?.S ?? v ?? '');
  if (item) return `${attr(item.pk)} ${attr(item.sk)}`;
  return Object.keys((input.RequestItems ?? {}) as object).join(',');
}

export class CrashPoints {
  private readonly current = new AsyncLocalStorage<StepContext>();
  private writes = 0;
  private readonly stepWrites = new Map<string, number>();
  /** Writes of the plan's step left before the kill, once a `+<m>` point's write went through. */
  private armed: number | undefined;
  /** Writes so far that the step-write plan's step, operation and target select. */
  private matched = 0;

  constructor(
    private readonly plan: CrashPlan | undefined,
    private readonly trace = false,
  ) {}

  /** Runs `work` as part of `step` (on behalf of function `fn`): its writes count for that step. */
  within<T>(step: string, fn: string, work: () => Promise<T>): Promise<T> {
    if (this.plan?.kind === 'step-entry' && this.plan.step === step) this.die(`entry of ${step} (${fn})`);
    return this.current.run({ step, fn }, work);
  }

  /** A handler whose work belongs to the step of its function. */
  bind<E, O>(fn: string, handler: (event: E) => Promise<O>): (event: E) => Promise<O> {
    const step = stepOfFunction(fn);
    return (event) => this.within(step, fn, () => handler(event));
  }

  /** Adds the counting middleware to a client (a no-op without a plan). */
  attach<C extends MiddlewareClient>(client: C, service: 'dynamodb' | 's3'): C {
    if (!this.plan && !this.trace) return client;
    const middleware: Middleware = (next, context) => async (args) => {
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      if (WRITES[service].has(op)) this.countWrite(service, op, (args as { input?: Record<string, unknown> }).input ?? {});
      return next(args);
    };
    client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'goldlineCrashPoints', override: true } as never);
    return client;
  }

  private countWrite(service: string, op: string, input: Record<string, unknown>): void {
    const ctx = this.current.getStore() ?? { step: 'api', fn: 'http' };
    this.writes++;
    const inStep = this.bump(ctx.step);
    const ofOp = this.bump(`${ctx.step}:${op}`);
    if (this.trace) writeSync(2, `GOLDLINE_WRITE #${this.writes} ${ctx.step}:${inStep} ${ctx.step}:${op}:${ofOp} (${ctx.fn}) ${targetOf(input)}\n`);
    const p = this.plan;
    const where = `write #${this.writes} in ${ctx.step} (${ctx.fn}) ${service} ${op} ${targetOf(input)}`;
    if (p?.kind === 'write' && p.n === this.writes) this.die(where);
    if (p?.kind !== 'step-write' || p.step !== ctx.step) return;
    if (this.armed !== undefined) {
      if (--this.armed === 0) this.die(where);
      return;
    }
    if (p.operation && p.operation !== op) return;
    if (p.target !== undefined && !targetOf(input).includes(p.target)) return;
    if (++this.matched !== p.k) return;
    if (p.after === undefined) this.die(where);
    this.armed = p.after;
  }

  private bump(counter: string): number {
    const n = (this.stepWrites.get(counter) ?? 0) + 1;
    this.stepWrites.set(counter, n);
    return n;
  }

  private die(where: string): never {
    writeSync(2, `GOLDLINE_CRASH ${where}\n`);
    process.kill(process.pid, 'SIGKILL');
    // SIGKILL ends the process before this line; never continue the request.
    throw new Error('unreachable: the process was killed');
  }
}
