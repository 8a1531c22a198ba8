/**
 * Every workflows/*.asl.json is valid Amazon States Language and binds its
 * Task states to functions of definitions.ts through `${<Name>FunctionArn}`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, functionArnPlaceholder } from '../../infra/definitions.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** asl-validator 4 is CommonJS without types: `validator(definition, options?)`. */
type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: unknown[]; errorsText: (separator?: string) => string };
const validateAsl = createRequire(import.meta.url)('asl-validator') as AslValidator;

interface State {
  Type: string;
  Parameters?: { FunctionName?: unknown };
  Retry?: unknown[];
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Branches?: { States: Record<string, State> }[];
  Iterator?: { States: Record<string, State> };
  ItemProcessor?: { States: Record<string, State> };
}

/**
 * Functions no workflow state calls: an operator starts a round, S3 events
 * drive ingest, and an expert's decision resumes an adjudication (callback).
 */
const NOT_IN_WORKFLOWS = ['DispatchRound', 'IngestUpload', 'DecideAdjudication', 'Api', 'WorkApi'];

const WORKFLOWS = readdirSync(join(ROOT, 'workflows'))
  .filter((f) => f.endsWith('.asl.json'))
  .sort();
const load = (file: string) => JSON.parse(readFileSync(join(ROOT, 'workflows', file), 'utf8')) as { States: Record<string, State> };

/** Task states at any depth (Parallel branches, Map processors), by name. */
function taskStates(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, s]): [string, State][] => [
    ...(s.Type === 'Task' ? [[name, s] as [string, State]] : []),
    ...(s.Branches ?? []).flatMap((b) => taskStates(b.States)),
    ...[s.Iterator, s.ItemProcessor].flatMap((p) => (p ? taskStates(p.States) : [])),
  ]);
}

const placeholderOf = (s: State): string | undefined =>
  typeof s.Parameters?.FunctionName === 'string' ? /^\$\{(\w+)\}$/.exec(s.Parameters.FunctionName)?.[1] : undefined;

describe('Workflows: workflows/*.asl.json', () => {
  it('has at least one workflow', () => {
    expect(WORKFLOWS.length).toBeGreaterThan(0);
  });

  describe.each(WORKFLOWS)('%s', (file) => {
    it('passes asl-validator', () => {
      const result = validateAsl(load(file));
      expect(result.isValid, result.errorsText('\n')).toBe(true);
    });

    it('binds every Task state to a FUNCTIONS entry through its <Name>FunctionArn placeholder', () => {
      const known = new Set(FUNCTIONS.map((f) => functionArnPlaceholder(f.name)));
      const tasks = taskStates(load(file).States);
      expect(tasks.length).toBeGreaterThan(0);
      for (const [name, state] of tasks) {
        const placeholder = placeholderOf(state);
        expect(placeholder, `${name}: FunctionName ${JSON.stringify(state.Parameters?.FunctionName)}`).toBeDefined();
        expect(known.has(placeholder!), `${name}: \${${placeholder}} names no FUNCTIONS entry`).toBe(true);
      }
    });

    it('retries every Task state and bounds it with a timeout', () => {
      for (const [name, state] of taskStates(load(file).States)) {
        expect(state.Retry?.length ?? 0, `${name} has a Retry`).toBeGreaterThan(0);
        expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath, `${name} has a timeout`).toBeDefined();
      }
    });
  });

  it('uses every FUNCTIONS entry in some state, except the ones started from outside', () => {
    const used = new Set(WORKFLOWS.flatMap((f) => taskStates(load(f).States).map(([, s]) => placeholderOf(s))));
    const unused = FUNCTIONS.filter((f) => !used.has(functionArnPlaceholder(f.name))).map((f) => f.name);
    expect(unused.sort()).toEqual([...NOT_IN_WORKFLOWS].sort());
  });
});
