import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AcceptanceSpec,
  type SwitchingOutcome,
  type SwitchingState,
  initialSwitchingState,
  inspectionPolicy,
  nextInspection,
  resumeInspection,
  singleSamplingPlan,
} from '../../../../functions/domain/acceptance/index.js';

const accepted = (wrong = 0, passesTightened = true): SwitchingOutcome => ({ decision: 'accept', n: 38, wrong, passesTightened });
const rejected = (wrong = 6): SwitchingOutcome => ({ decision: 'reject', n: 38, wrong });
const inconclusive: SwitchingOutcome = { decision: 'inconclusive', n: 6, wrong: 1 };

/** Feeds outcomes in order; returns the final state and every switch. */
function run(outcomes: SwitchingOutcome[], from: SwitchingState = initialSwitchingState()) {
  let state = from;
  const switches = [];
  for (const o of outcomes) {
    const step = nextInspection(state, o);
    state = step.state;
    if (step.switch) switches.push(step.switch);
  }
  return { state, switches };
}

describe('Function: nextInspection', () => {
  it('tightens when 2 of the last 5 conclusive batches are rejected, with the window as evidence', () => {
    // Act
    const { state, switches } = run([accepted(1, false), rejected(7), accepted(2, false), rejected(6)]);

    // Assert
    expect(state.level).toBe('tightened');
    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({
      from: 'normal',
      to: 'tightened',
      rule: 'two-of-five-rejected',
      evidence: { rejected: 2, accepted: 2, wrong: 16, goldItems: 152 },
    });
    expect(switches[0].reason).toBe('tightened inspection: 2 of the last 4 conclusive batches rejected (16 wrong of 152 gold items)');
  });

  it('does not tighten when the two rejections are more than 5 conclusive batches apart', () => {
    const { state } = run([rejected(), accepted(), accepted(), accepted(), accepted(), rejected()]);
    expect(state.level).toBe('normal');
  });

  it('never counts an inconclusive batch against the vendor', () => {
    const { state } = run([rejected(), inconclusive, inconclusive, inconclusive, accepted(), accepted(), accepted(), accepted(), accepted(), rejected()]);
    expect(state.level).toBe('normal');
  });

  it('never tightens a vendor whose every gold answer is right, whatever the decisions say', () => {
    // A rejection with no wrong answer cannot come from the plans; even if a caller sent one, the rule holds.
    fc.assert(
      fc.property(fc.array(fc.constantFrom<SwitchingOutcome['decision']>('accept', 'reject', 'inconclusive'), { maxLength: 60 }), (ds) => {
        const { switches } = run(ds.map((decision) => ({ decision, n: 38, wrong: 0, passesTightened: true })));
        expect(switches.every((s) => s.to !== 'tightened' && s.to !== 'discontinued')).toBe(true);
      }),
    );
  });

  it('returns from tightened to normal after 5 consecutive accepted batches', () => {
    const { state, switches } = run([rejected(), rejected(), accepted(), accepted(), accepted(), accepted(), accepted()]);
    expect(state.level).toBe('normal');
    expect(switches.map((s) => `${s.from}→${s.to}:${s.rule}`)).toEqual([
      'normal→tightened:two-of-five-rejected',
      'tightened→normal:accepted-under-tightened',
    ]);
  });

  it('restarts the count of accepted batches under tightened inspection at a rejection', () => {
    const { state } = run([rejected(), rejected(), accepted(), accepted(), accepted(), accepted(), rejected(), accepted()]);
    expect(state.level).toBe('tightened');
    expect(state.consecutiveAccepted).toBe(1);
  });

  it('discontinues when rejections under tightened inspection reach 5, and stays there', () => {
    // Act
    const { state, switches } = run([rejected(), rejected(), rejected(), accepted(), rejected(), rejected(), rejected(), rejected(), accepted()]);

    // Assert
    expect(state.level).toBe('discontinued');
    expect(switches.at(-1)).toMatchObject({ from: 'tightened', to: 'discontinued', rule: 'rejected-under-tightened' });
    expect(switches.at(-1)?.reason).toMatch(/5 batches rejected under tightened inspection/);
  });

  it('resumes a discontinued vendor under tightened inspection only after corrective action', () => {
    const { state } = run(Array.from({ length: 7 }, () => rejected()));
    const resumed = resumeInspection(state, 'retrained annotators, reviewed by the QA lead');
    expect(resumed.state.level).toBe('tightened');
    expect(resumed.switch).toMatchObject({ from: 'discontinued', to: 'tightened', rule: 'corrective-action' });
    expect(() => resumeInspection(initialSwitchingState(), 'x')).toThrow(/only a discontinued vendor resumes/);
  });

  it('reduces after 10 consecutive clean accepts (switching score 30)', () => {
    // Act
    const nine = run(Array.from({ length: 9 }, () => accepted()));
    const ten = nextInspection(nine.state, accepted());

    // Assert
    expect(nine.state).toMatchObject({ level: 'normal', switchingScore: 27 });
    expect(ten.state.level).toBe('reduced');
    expect(ten.switch).toMatchObject({ from: 'normal', to: 'reduced', rule: 'switching-score', evidence: { switchingScore: 30, accepted: 10 } });
  });

  it('scores per batch settled: an SPRT accept pooling 4 clean batches adds 12', () => {
    // Arrange
    const pooled = (batches: number): SwitchingOutcome => ({ decision: 'accept', n: 6 * batches, wrong: 0, batches, passesTightened: true });

    // Act
    const { state, switches } = run([pooled(4), pooled(4), pooled(2)]);

    // Assert: 10 clean batches in three decisions reach 30.
    expect(state.level).toBe('reduced');
    expect(switches[0].evidence).toMatchObject({ switchingScore: 30, accepted: 3, goldItems: 60 });
  });

  it('counts accepted batches, not decisions, to leave tightened inspection', () => {
    const tightened = run([rejected(), rejected()]).state;
    const step = nextInspection(tightened, { decision: 'accept', n: 30, wrong: 1, batches: 5 });
    expect(step.switch).toMatchObject({ from: 'tightened', to: 'normal', rule: 'accepted-under-tightened' });
  });

  it('resets the switching score on an accept that would not pass the tightened rule, but not on an inconclusive', () => {
    expect(run([accepted(), accepted(), accepted(3, false)]).state.switchingScore).toBe(0);
    expect(run([accepted(), accepted(), inconclusive]).state.switchingScore).toBe(6);
  });

  it('returns from reduced to normal on one rejected or one inconclusive batch', () => {
    const reduced = run(Array.from({ length: 10 }, () => accepted())).state;
    expect(nextInspection(reduced, rejected()).switch).toMatchObject({ to: 'normal', rule: 'rejected-under-reduced' });
    expect(nextInspection(reduced, inconclusive).switch).toMatchObject({ to: 'normal', rule: 'inconclusive-under-reduced' });
    expect(nextInspection(reduced, accepted()).state.level).toBe('reduced');
  });

  it('keeps reduced inspection through SPRT looks that keep pooling', () => {
    const reduced = run(Array.from({ length: 10 }, () => accepted())).state;
    const step = nextInspection(reduced, { decision: 'inconclusive', n: 3, wrong: 0, pooling: true });
    expect(step.switch).toBeUndefined();
    expect(step.state.level).toBe('reduced');
  });

  it('throws on more wrong answers than gold items', () => {
    expect(() => nextInspection(initialSwitchingState(), { decision: 'reject', n: 3, wrong: 4 })).toThrow(/exceed gold items/);
  });
});

describe('Function: inspectionPolicy', () => {
  const normal = AcceptanceSpec.parse({ aql: 0.95, rql: 0.8 });

  it('derives a tightened plan with more gold and a reduced plan with less, at the same AQL and α', () => {
    // Act
    const n = (level: 'normal' | 'tightened' | 'reduced') => {
      const p = singleSamplingPlan(inspectionPolicy(normal, level).spec!);
      return { n: p.n, c: p.c };
    };

    // Assert
    expect(n('normal')).toEqual({ n: 38, c: 4 });
    expect(n('tightened')).toEqual({ n: 50, c: 5 });
    expect(n('reduced')).toEqual({ n: 25, c: 3 });
  });

  it('halves the share under tightened inspection and gives none when discontinued', () => {
    expect(inspectionPolicy(normal, 'tightened').shareFactor).toBe(0.5);
    expect(inspectionPolicy(normal, 'discontinued')).toEqual({ spec: null, shareFactor: 0 });
  });
});
