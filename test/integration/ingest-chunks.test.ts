/**
 * A large setup ingest on the embedded stack (dynalite, s3rver): the ledger
 * records it in chunks each within DynamoDB's item limit, which dynalite enforces
 * (a retry appending nothing twice is shown on the fakes: test/unit/use-cases/ingest-chunks.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMO_ITEM_LIMIT, INGEST_CHUNK_CASES, dynamoItemSize, isLedgerEvent, projectProgram } from '../../functions/domain/index.js';
import { ingestCases, registerProtocolVersion } from '../../functions/use-cases/setup-program.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { buildPng, tEXt } from '../support/images.js';
import { makeProtocol } from '../unit/fakes.js';

const PROGRAM = 'ingest-chunks-it';
const N = 5_200;

describe('A large ingest on the embedded stack', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
    await registerProtocolVersion(stack.deps, makeProtocol({ routing: { rules: [], default: { pool: 'vendor' }, onDeidentificationFailure: 'quarantine' } }));
  });
  afterAll(async () => stack?.stop());

  // History: the whole ingest was one cases.ingested item; dynalite refused it over 400 KB and the round-10k bench setup failed.
  it('records 5,200 cases as chunked cases.ingested events that dynalite accepts, each case once', async () => {
    const { deps } = stack;
    await deps.objects.putBytes(deps.buckets.images, 'images/clean.png', buildPng(), 'image/png');
    await deps.objects.putBytes(deps.buckets.images, 'images/named.png', buildPng([tEXt('Author', 'DOE^JANE')]), 'image/png');
    // Long ids (64 characters) make each chunk as large as ids allow.
    const rows = Array.from({ length: N }, (_, i) => ({
      caseId: `${String(i).padStart(5, '0')}-${'x'.repeat(58)}`,
      imageKey: i % 100 === 0 ? 'images/named.png' : 'images/clean.png',
      modality: 'CR',
      bodyPart: 'CHEST',
      site: 's',
      deidentified: true,
    }));

    const result = await ingestCases(deps, { programId: PROGRAM, protocolId: 'chest-xray', protocolVersion: 1, cases: rows, gold: [], actor: 'pm:ana' });

    const after = await deps.repo.listLedger(PROGRAM);

    const events = after.filter(isLedgerEvent('cases.ingested'));
    const chunks = Math.ceil(N / INGEST_CHUNK_CASES);
    expect(events.map((e) => e.data.chunk)).toEqual(Array.from({ length: chunks }, (_, i) => i));
    expect(events.flatMap((e) => e.data.cases).sort()).toEqual(rows.map((r) => r.caseId).sort());
    expect(events.flatMap((e) => e.data.gated)).toHaveLength(N / 100);
    expect(result.gated).toBe(N / 100);
    for (const e of events) expect(dynamoItemSize({ pk: `LEDGER#${PROGRAM}`, sk: 'SEQ#000000000000', ...e })).toBeLessThan(DYNAMO_ITEM_LIMIT / 2);
    expect(Object.keys(projectProgram(after).cases).sort()).toEqual((await deps.repo.listCases(PROGRAM)).map((c) => c.caseId).sort());
  }, 300_000);
});
