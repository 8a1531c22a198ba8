/**
 * The callback pattern (task tokens), emulated. aws-local-stepfunctions cannot
 * pause on `.waitForTaskToken` (LOCAL-STACK.md): the local handler of such a
 * state mints a token and parks on a promise that `success` settles, as
 * SendTaskSuccess does in AWS. The SLA (TimeoutSeconds) and heartbeat windows
 * are enforced here, on a clock that tests and the demo can move forward.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, TaskCallbacks } from '../../functions/use-cases/ports.js';

/** An error the engine's Catch matches by name, as Step Functions raises it. */
export class StatesTimeoutError extends Error {
  constructor(name: 'States.Timeout' | 'States.HeartbeatTimeout', message: string) {
    super(message);
    this.name = name;
  }
}

interface Parked {
  resolve: (output: unknown) => void;
  reject: (e: Error) => void;
  deadline: number;
  heartbeatMs: number;
  lastBeat: number;
}

/** A clock that runs with real time plus an offset that `advance` grows. */
export class LocalClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export class LocalTaskCallbacks implements TaskCallbacks {
  private readonly parked = new Map<string, Parked>();
  private readonly done = new Set<string>();
  /** Every callback call, for tests that count repeats. */
  readonly calls: { kind: 'success' | 'heartbeat'; token: string; result: 'sent' | 'stale' }[] = [];

  constructor(private readonly clock: LocalClock) {}

  mintToken(): string {
    return `local-task-token-${randomUUID()}`;
  }

  /** Parks a task until success, or until its timeout/heartbeat window passes on the clock. */
  park(token: string, timeoutSeconds: number, heartbeatSeconds?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const now = this.clock.now().getTime();
      this.parked.set(token, {
        resolve,
        reject,
        deadline: now + timeoutSeconds * 1000,
        heartbeatMs: (heartbeatSeconds ?? timeoutSeconds) * 1000,
        lastBeat: now,
      });
    });
  }

  async success(token: string, output: unknown): Promise<'sent' | 'stale'> {
    const p = this.parked.get(token);
    const result = p ? 'sent' : 'stale';
    this.calls.push({ kind: 'success', token, result });
    if (p) {
      this.parked.delete(token);
      this.done.add(token);
      p.resolve(output);
    }
    return result;
  }

  async heartbeat(token: string): Promise<'sent' | 'stale'> {
    const p = this.parked.get(token);
    if (p) p.lastBeat = this.clock.now().getTime();
    const result = p ? 'sent' : 'stale';
    this.calls.push({ kind: 'heartbeat', token, result });
    return result;
  }

  /** Fails every parked task whose SLA or heartbeat window has passed. */
  expire(): number {
    const now = this.clock.now().getTime();
    let n = 0;
    for (const [token, p] of this.parked) {
      let error: StatesTimeoutError | undefined;
      if (now >= p.deadline) error = new StatesTimeoutError('States.Timeout', 'Task timed out (SLA)');
      else if (now - p.lastBeat >= p.heartbeatMs)
        error = new StatesTimeoutError('States.HeartbeatTimeout', 'No heartbeat within the window');
      if (error) {
        this.parked.delete(token);
        p.reject(error);
        n++;
      }
    }
    return n;
  }

  get waiting(): number {
    return this.parked.size;
  }
}
