/**
 * Runs state machines from their ASL files with aws-local-stepfunctions, every
 * Task state bound to the same handler code Lambda runs. Refuses to start if any
 * Task state is unbound (an unbound state would call real AWS).
 */
import './polyfills.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { FUNCTIONS } from '../definitions.js';
import type { Handler } from '../../functions/adapters/handler.js';
import type { Deps, RoundExecution, WorkflowStarter } from '../../functions/use-cases/ports.js';
import type { LocalTaskCallbacks } from './callbacks.js';

const PLACEHOLDER_TOKEN = 'LOCAL_PLACEHOLDER_TASK_TOKEN';
/** Engine-side timeout of parked callback tasks: the SLA is enforced by LocalTaskCallbacks. */
const PARKED_ENGINE_TIMEOUT_SECONDS = 2_000_000;

type AslState = {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; Payload?: unknown };
  TimeoutSecondsPath?: string;
  HeartbeatSecondsPath?: string;
  TimeoutSeconds?: number;
};
type Asl = { StartAt: string; States: Record<string, AslState> };
type NestedStates = { Iterator?: Asl; ItemProcessor?: Asl; Branches?: Asl[] };

/** Every state at any depth (Map processors, Parallel branches), by name: handlers are bound by state name at every level. */
export function allStates(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, s]): [string, AslState][] => {
    const n = s as AslState & NestedStates;
    const nested = [n.Iterator, n.ItemProcessor, ...(n.Branches ?? [])].filter((x): x is Asl => x !== undefined);
    return [[name, s], ...nested.flatMap((x) => allStates(x.States))];
  });
}

export class UnboundTaskStateError extends Error {
  override readonly name = 'UnboundTaskStateError';
}

export interface ExecutionRecord {
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  events: { type: string; state?: string }[];
}

/** Loads an ASL file, replacing `${Name}` substitutions with local ARNs. */
export function loadAsl(root: string, file: string): Asl {
  const text = readFileSync(join(root, file), 'utf8').replace(
    /\$\{([A-Za-z0-9]+)\}/g,
    (_, name: string) => `arn:aws:lambda:us-east-1:000000000000:function:local-${name}`,
  );
  return JSON.parse(text) as Asl;
}

/** The function name a Task state invokes (from `${XFunctionArn}`), or undefined. */
export function functionOfState(state: AslState): string | undefined {
  const arn = state.Parameters?.FunctionName ?? '';
  const m = /function:local-([A-Za-z0-9]+)FunctionArn$/.exec(arn);
  return m?.[1];
}

/**
 * Runs one part of a function that does several steps' work (CompleteBatch: settle, finalize,
 * agreement check, rebalance), so the embedded stack can count its writes under that part.
 */
export type FunctionPartRunner = <T>(fn: string, part: string, work: () => Promise<T>) => Promise<T>;

/** Every FUNCTIONS entry's handler; `part` reaches the functions made of parts (their module's `makeHandlerWithParts`). */
export async function loadHandlers(root: string, deps: () => Deps, part?: FunctionPartRunner): Promise<Record<string, Handler<unknown>>> {
  const out: Record<string, Handler<unknown>> = {};
  for (const f of FUNCTIONS) {
    const mod = (await import(join(root, f.entry))) as {
      makeHandler: (d: () => Deps) => Handler<unknown>;
      makeHandlerWithParts?: (d: () => Deps, part: <T>(name: string, work: () => Promise<T>) => Promise<T>) => Handler<unknown>;
    };
    out[f.name] = part && mod.makeHandlerWithParts ? mod.makeHandlerWithParts(deps, (name, work) => part(f.name, name, work)) : mod.makeHandler(deps);
  }
  return out;
}

export class LocalWorkflowRunner implements WorkflowStarter {
  private readonly machine: StateMachine;
  private readonly asl: Asl;
  private readonly redriven = new Map<string, StateMachine>();
  private readonly overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
  /** Handler invocations under way: an aborted execution's engine stops waiting for them, the stack must not. */
  private readonly inFlight = new Set<Promise<unknown>>();
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly aborts = new Map<string, () => void>();
  private readonly retryIntervalOverrides: Record<string, number> = {};

  constructor(
    asl: Asl,
    handlers: Record<string, Handler<unknown>>,
    private readonly callbacks: LocalTaskCallbacks,
    opts: { retryDelayMs?: number } = {},
  ) {
    const unbound: string[] = [];
    for (const [stateName, state] of allStates(asl.States)) {
      if (state.Type !== 'Task') continue;
      const fn = functionOfState(state);
      const handler = fn ? handlers[fn] : undefined;
      if (!fn || !handler) {
        unbound.push(`${stateName} (${state.Parameters?.FunctionName ?? state.Resource})`);
        continue;
      }
      this.retryIntervalOverrides[stateName] = opts.retryDelayMs ?? 5;
      if (state.Resource?.endsWith('.waitForTaskToken')) {
        // The engine would enforce the SLA in real seconds (and overflow timers
        // past 24.8 days): LocalTaskCallbacks enforces it on the local clock.
        const timeoutPath = state.TimeoutSecondsPath;
        const heartbeatPath = state.HeartbeatSecondsPath;
        delete state.TimeoutSecondsPath;
        delete state.HeartbeatSecondsPath;
        state.TimeoutSeconds = PARKED_ENGINE_TIMEOUT_SECONDS;
        this.overrides[stateName] = async (input) => {
          const { Payload, timeoutSeconds, heartbeatSeconds } = input as {
            Payload: Record<string, unknown>;
            timeoutSeconds?: number;
            heartbeatSeconds?: number;
          };
          const token = this.callbacks.mintToken();
          const payload = JSON.parse(JSON.stringify(Payload).split(PLACEHOLDER_TOKEN).join(token));
          const parked = this.callbacks.park(token, timeoutSeconds ?? 3600, heartbeatSeconds);
          await this.track(handler(payload));
          return parked;
        };
        // Carry the paths' values into the local handler's input.
        const params = state.Parameters as Record<string, unknown>;
        if (timeoutPath) params['timeoutSeconds.$'] = timeoutPath;
        if (heartbeatPath) params['heartbeatSeconds.$'] = heartbeatPath;
      } else {
        this.overrides[stateName] = async (input) => ({
          Payload: await this.track(handler((input as { Payload: unknown }).Payload)),
        });
      }
    }
    if (unbound.length > 0) {
      throw new UnboundTaskStateError(`Task state(s) without a local handler: ${unbound.join(', ')}`);
    }
    this.machine = new StateMachine(asl as never, { validationOptions: { checkArn: true, checkPaths: true } });
    this.asl = asl;
  }

  /**
   * Starts an execution; `startAt` restarts one that was lost with the process
   * (the local engine keeps no execution state on disk) at the state its batch
   * reached, as a Step Functions redrive would.
   */
  async startBatch(name: string, input: unknown, opts: { startAt?: string } = {}): Promise<void> {
    if (this.executions.has(name)) return; // same name: one execution, as in AWS
    const rec: ExecutionRecord = { name, status: 'RUNNING', events: [] };
    this.executions.set(name, rec);
    const execution = this.machineFrom(opts.startAt).run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.overrides as never,
        retryIntervalOverrides: this.retryIntervalOverrides,
      },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: `local:${name}`, Name: name, Input: input, StartTime: new Date().toISOString() },
        Task: { Token: PLACEHOLDER_TOKEN },
      } as never,
    });
    this.aborts.set(name, execution.abort);
    const events = (async () => {
      for await (const e of execution.eventLogs as AsyncIterable<{ type: string; state?: { name: string } }>) {
        rec.events.push({ type: e.type, state: e.state?.name });
      }
    })().catch(() => undefined);
    const done = execution.result.then(
      (output: unknown) => {
        if (rec.status === 'RUNNING') rec.status = 'SUCCEEDED';
        rec.output = output;
      },
      (e: Error) => {
        // The engine wraps the Fail state's error; record the state machine's own.
        const cause = (e as { cause?: Error }).cause ?? e;
        rec.status = 'FAILED';
        rec.error = `${cause.name}: ${cause.message}`;
      },
    );
    this.running.set(
      name,
      Promise.all([done, events]).then(() => {
        this.running.delete(name);
        this.aborts.delete(name);
      }),
    );
  }

  private machineFrom(startAt: string | undefined): StateMachine {
    if (startAt === undefined || startAt === this.asl.StartAt) return this.machine;
    if (!this.asl.States[startAt]) throw new Error(`no state ${startAt} in the state machine`);
    let m = this.redriven.get(startAt);
    if (!m) {
      // The same states as the validated machine; states before `startAt` are unreachable by design.
      m = new StateMachine({ ...this.asl, StartAt: startAt } as never, { validationOptions: { noValidate: true } });
      this.redriven.set(startAt, m);
    }
    return m;
  }

  /** State transitions so far, over all executions (a Step Functions cost driver). */
  get stateTransitions(): number {
    let n = 0;
    for (const r of this.executions.values()) n += r.events.filter((e) => e.type === 'StateEntered').length;
    return n;
  }

  /**
   * An execution as the round dispatch sees it (RoundWorkflow.roundExecution):
   * with `waitSeconds` > 0, once it has finished (locally it always finishes).
   */
  async execution(name: string, waitSeconds: number): Promise<RoundExecution> {
    if (!this.executions.has(name)) return { status: 'MISSING' };
    const rec = waitSeconds > 0 ? await this.finished(name) : this.executions.get(name)!;
    if (rec.status !== 'FAILED') return { status: rec.status, ...(rec.output !== undefined ? { output: rec.output } : {}) };
    const [errorName, ...message] = (rec.error ?? 'Error: unknown').split(': ');
    return { status: 'FAILED', error: { name: errorName, message: message.join(': ') } };
  }

  /** Resolves with the execution's record once it has finished. */
  async finished(name: string): Promise<ExecutionRecord> {
    const rec = this.executions.get(name);
    if (!rec) throw new Error(`no execution named ${name}`);
    await this.running.get(name);
    return rec;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Stops every running execution (the stack is shutting down). */
  async abortAll(): Promise<void> {
    for (const [name, abort] of this.aborts) {
      const rec = this.executions.get(name);
      if (rec) {
        rec.status = 'FAILED';
        rec.error = 'ExecutionAborted: the local stack stopped';
      }
      abort();
    }
    await Promise.allSettled([...this.running.values()]);
    // A handler the engine stopped waiting for still writes: let it finish before the stores close.
    await Promise.allSettled([...this.inFlight]);
  }

  /** Resolves when no execution is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }
}
