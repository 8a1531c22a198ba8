/**
 * Regression (found in review; fixed): Hidden gold items bypass routing and the de-identification gate: dispatch
 * draws gold for vendor batches from the whole gold pool, so a gold case with
 * no de-identification attestation, with identifying DICOM attributes found at
 * ingest, or one the protocol keeps internal (sensitive) reaches a vendor.
 */
import { describe, expect, it } from 'vitest';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { PROGRAM, program } from './scenario.js';

describe('review: gold items and the de-identification gate', () => {
  it('never puts a gold case that may not leave the building into a vendor batch', async () => {
    const deps = await program({
      cases: 40,
      gold: 10,
      protocol: {
        routing: {
          rules: [{ id: 'sensitive-inside', when: [{ attribute: 'flags.sensitive', op: 'isTrue' }], route: { pool: 'internal' }, reason: 'kept inside' }],
          default: { pool: 'vendor' },
        },
      },
      // Every gold case fails the gate one way or another.
      goldCase: (i) =>
        i % 3 === 0
          ? { deidentified: false }
          : i % 3 === 1
            ? { deidentificationFindings: ['PatientName (0010,0010) present'] }
            : { flags: { sensitive: true } },
    });
    const r = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
    const leaked: string[] = [];
    for (const b of r.batches) {
      const key = await loadBatchKey(deps, b.batchId);
      leaked.push(...key.items.filter((i) => i.gold).map((i) => `${b.workforceId}:${i.caseId}`));
    }
    expect(leaked).toEqual([]);
  });
});
