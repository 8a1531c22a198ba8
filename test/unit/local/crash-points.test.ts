import { describe, expect, it } from 'vitest';
import { crashPlanFromEnv, stepOfFunction } from '../../../infra/local/crash-points.js';
import { FUNCTIONS } from '../../../infra/definitions.js';

describe('Function: crashPlanFromEnv', () => {
  it('returns no plan when neither variable is set', () => {
    expect(crashPlanFromEnv({})).toBeUndefined();
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AT: '', GOLDLINE_CRASH_AFTER_WRITES: '' })).toBeUndefined();
  });

  it('reads the N-th write of the run, the k-th write of a step, of an operation in a step, and a step entry', () => {
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AFTER_WRITES: '150' })).toEqual({ kind: 'write', n: 150 });
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'ingest:3' })).toEqual({ kind: 'step-write', step: 'ingest', k: 3 });
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'dispatch:PutItem:7' })).toEqual({
      kind: 'step-write',
      step: 'dispatch',
      operation: 'PutItem',
      k: 7,
    });
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'adjudication:entry' })).toEqual({ kind: 'step-entry', step: 'adjudication' });
  });

  it('reads a write point narrowed to targets containing a text, and one that kills a number of the step\'s writes after it', () => {
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'score:UpdateItem:2@BATCH#demo-cxr-r1-vendor-b-1' })).toEqual({
      kind: 'step-write',
      step: 'score',
      operation: 'UpdateItem',
      k: 2,
      target: 'BATCH#demo-cxr-r1-vendor-b-1',
    });
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'finalize:PutItem:1@r1-vendor-b-1:labels+4' })).toEqual({
      kind: 'step-write',
      step: 'finalize',
      operation: 'PutItem',
      k: 1,
      target: 'r1-vendor-b-1:labels',
      after: 4,
    });
    expect(crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'finalize:3+2' })).toEqual({ kind: 'step-write', step: 'finalize', k: 3, after: 2 });
    expect(() => crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'finalize:1@' })).toThrow(/got "finalize:1@"/);
    expect(() => crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'finalize:entry+2' })).toThrow(/got "finalize:entry\+2"/);
  });

  it('refuses a malformed value with the forms it accepts', () => {
    expect(() => crashPlanFromEnv({ GOLDLINE_CRASH_AFTER_WRITES: '0' })).toThrow(/must be a positive integer, got "0"/);
    expect(() => crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'ingest' })).toThrow(/<step>:<k>, <step>:<Operation>:<k> or <step>:entry \(a write point may add @<text> and \+<m>\), got "ingest"/);
    expect(() => crashPlanFromEnv({ GOLDLINE_CRASH_AT: 'ingest:putitem:1' })).toThrow(/got "ingest:putitem:1"/);
  });
});

describe('Function: stepOfFunction', () => {
  it('gives every function the stack runs a step GOLDLINE_CRASH_AT can name', () => {
    expect(FUNCTIONS.map((f) => stepOfFunction(f.name)).filter((step) => !/^[a-z]+$/.test(step))).toEqual([]);
  });

  it('groups the lifecycle functions into the steps a PM reads', () => {
    expect(['ScoreSubmission', 'SettleBatch', 'CheckAgreement', 'ApplyAdjudication', 'Api'].map(stepOfFunction)).toEqual([
      'score',
      'score',
      'adjudication',
      'adjudication',
      'api',
    ]);
  });
});
