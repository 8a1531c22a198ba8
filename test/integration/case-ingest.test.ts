/**
 * Case ingest through presigned image slots on the embedded stack: real HTTP
 * PUTs to the S3 guard (which enforces the signed size, checksum and
 * write-once header as S3 does), then the de-identification gate on what was
 * uploaded, over dynalite and s3rver.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeCaseIngest, ingestCaseManifest } from '../../functions/use-cases/case-ingest.js';
import { registerProtocolVersion } from '../../functions/use-cases/setup-program.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { buildPng, tEXt } from '../support/images.js';
import { makeProtocol } from '../unit/fakes.js';

const PROGRAM = 'ingest-it';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('Case ingest through image upload slots (embedded stack)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
    await registerProtocolVersion(stack.deps, makeProtocol({ routing: { rules: [], default: { pool: 'vendor' }, onDeidentificationFailure: 'quarantine' } }));
  });
  afterAll(async () => stack?.stop());

  it('takes a CSV manifest, accepts exactly the declared image bytes once, and answers each case\'s gate verdict', async () => {
    // Arrange
    const clean = buildPng();
    const named = buildPng([tEXt('Author', 'DOE^JANE')]);
    const csv = [
      'caseId,modality,bodyPart,site,deidentified,image,imageSizeBytes,imageSha256',
      `case-1,CR,CHEST,site-a,true,one.png,${clean.length},${sha(clean)}`,
      `case-2,CR,CHEST,site-a,true,two.png,${named.length},${sha(named)}`,
    ].join('\n');
    const accepted = await ingestCaseManifest(stack.deps, { programId: PROGRAM, protocol: 'chest-xray@1', format: 'csv', body: csv, actor: 'pm:alice' });
    const slot = (caseId: string) => accepted.slots.find((s) => s.caseId === caseId)!;
    const put = (caseId: string, body: Uint8Array) => fetch(slot(caseId).url, { method: 'PUT', headers: slot(caseId).headers, body });

    // Act
    const tampered = await put('case-1', named.subarray(0, clean.length)); // other bytes, declared length
    const first = await put('case-1', clean);
    const second = await put('case-1', clean); // write-once
    const other = await put('case-2', named);
    const done = await completeCaseIngest(stack.deps, { programId: PROGRAM, ingestId: accepted.ingestId, actor: 'pm:alice' });

    // Assert
    expect(tampered.status).toBeGreaterThanOrEqual(400);
    expect(first.status).toBe(200);
    expect(second.status).toBe(412);
    expect(other.status).toBe(200);
    expect(done.awaitingImage).toEqual([]);
    expect(done.cases.map((c) => [c.caseId, c.verdict])).toEqual([
      ['case-1', 'clear'],
      ['case-2', 'quarantined'],
    ]);
    const stored = await stack.deps.repo.getCase(PROGRAM, 'case-2');
    expect(stored?.imageKey).toBe(slot('case-2').imageKey);
    expect(stored?.deidentificationFindings.join()).toContain('tEXt "Author"');
    const events = await stack.deps.repo.listLedger(PROGRAM);
    expect(events.filter((e) => e.type === 'cases.ingested').map((e) => e.data.cases)).toEqual([['case-1', 'case-2']]);
  });
});
