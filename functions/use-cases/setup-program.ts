/**
 * Program setup by a PM: protocol versions, workforces, cases and gold labels.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  Case,
  deidentificationFindings,
  inspectDicomHeader,
  type CaseInput,
  GoldLabel,
  type GoldLabelInput,
  ProtocolVersion,
  type ProtocolVersionInput,
  Workforce,
  type WorkforceInput,
} from '../domain/index.js';
import { goldSetObject } from './batch-key.js';
import { ConflictError } from './errors.js';
import type { Deps } from './ports.js';

/**
 * Registers a protocol version. Versions are immutable: registering the same
 * id@version again with identical content is a no-op; with other content it is
 * refused (write a new version instead).
 */
export async function registerProtocolVersion(deps: Deps, input: ProtocolVersionInput): Promise<ProtocolVersion> {
  const p = ProtocolVersion.parse(input);
  if ((await deps.repo.putProtocolVersion(p)) === 'exists') {
    const stored = await deps.repo.getProtocolVersion(p.protocolId, p.version);
    if (!isDeepStrictEqual(stored, p)) {
      throw new ConflictError(`protocol ${p.protocolId}@${p.version} exists with other content: versions are immutable`);
    }
  }
  return p;
}

/**
 * Registers or updates a workforce (capacity, price, SLA, qualifications). What
 * Goldline learnt about it — probation or suspension, the gold it has seen — is
 * kept unless the PM sets the status explicitly.
 */
export async function registerWorkforce(deps: Deps, programId: string, input: WorkforceInput): Promise<Workforce> {
  const parsed = Workforce.parse(input);
  const existing = (await deps.repo.listWorkforces(programId)).find((x) => x.workforceId === parsed.workforceId);
  const w: Workforce = existing
    ? {
        ...parsed,
        status: input.status ?? existing.status,
        recentGold: input.recentGold ? parsed.recentGold : existing.recentGold,
        goldSeen: input.goldSeen ? parsed.goldSeen : existing.goldSeen,
      }
    : parsed;
  await deps.repo.putWorkforce(programId, w);
  return w;
}

/** Bytes of an image read for its header: DICOM headers end well before this. */
export const HEADER_BYTES = 256 * 1024;

const looksLikeDicom = (key: string, head: Uint8Array): boolean =>
  /\.dcm$/i.test(key) || (head.length >= 132 && new TextDecoder().decode(head.subarray(128, 132)) === 'DICM');

/**
 * The de-identification gate at ingest: reads each image's header (first
 * 256 KiB) and, for DICOM files, records every identifying attribute of the
 * PS3.15 basic profile still present — and an unreadable header — as a finding.
 * Routing then keeps such a case away from vendors. A missing image is a finding
 * too: nothing unseen leaves.
 */
async function gateFindings(deps: Deps, c: Case): Promise<string[]> {
  const head = await deps.objects.getHead(deps.buckets.images, c.imageKey, HEADER_BYTES);
  if (head === undefined) return [`image ${c.imageKey} not found: its header cannot be checked`];
  if (!looksLikeDicom(c.imageKey, head)) return [];
  return deidentificationFindings(inspectDicomHeader(head));
}

/**
 * Ingests case rows and expert gold labels. A case with a gold label joins the
 * gold pool (it is used as hidden gold, never dispatched as work). Gold answers
 * go to the gold bucket only.
 */
export async function ingestCases(
  deps: Deps,
  input: { programId: string; protocolId: string; cases: readonly CaseInput[]; gold: readonly GoldLabelInput[] },
): Promise<{ cases: number; gold: number; gated: number }> {
  const parsed = input.cases.map((c) => Case.parse(c));
  const cases: Case[] = [];
  const queue = parsed.slice();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        cases.push({ ...c, deidentificationFindings: [...c.deidentificationFindings, ...(await gateFindings(deps, c))] });
      }
    }),
  );
  cases.sort((a, b) => a.caseId.localeCompare(b.caseId));
  const gold = input.gold.map((g) => GoldLabel.parse(g));
  const goldIds = new Set(gold.map((g) => g.caseId));
  const object = goldSetObject(input.programId, input.protocolId);
  const existing = (await deps.objects.getJson<Record<string, GoldLabel>>(deps.buckets.gold, object)) ?? {};
  for (const g of gold) existing[g.caseId] = g;
  await deps.objects.putJson(deps.buckets.gold, object, existing);
  await deps.repo.putCases(
    input.programId,
    cases.map((c) => ({ ...c, goldPool: goldIds.has(c.caseId) })),
  );
  return { cases: cases.length, gold: gold.length, gated: cases.filter((c) => c.deidentificationFindings.length > 0).length };
}
