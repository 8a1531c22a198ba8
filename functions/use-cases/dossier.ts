/**
 * The regulatory dossier of a release — primary course:
 * 1. Load the release (its `release.created` event and the stored manifest,
 *    with the manifest's SHA-256) — read-only from here on.
 * 2. Gather what the dossier states: every version of the protocol, the
 *    program's workforces and scorecards, this version's batches with their
 *    stored scores and labels (agreement on overlap cases), adjudications with the SHA-256 of each stored decision
 *    record, the program's cases (gate results), the labels the release's
 *    adjudicated cases replaced, the ledger, and the chain verified now with
 *    the release's anchor.
 * 3. Build the dossier (pure: functions/domain/dossier) and render its HTML.
 * 4. Write `dossiers/<releaseId>/dossier.json` and `dossier.html` to the exports bucket.
 * 5. Record one `export.created` event per file (the commit point): what
 *    'dossier', key, SHA-256, rows (the release's labels), releaseId. A crash
 *    before the events leaves files no event names; the retry writes them again
 *    and records them. An export of identical bytes is recorded once.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Identifier, type ProtocolVersion, ReleaseId, releaseManifestKey, verifyLedgerChain } from '../domain/index.js';
import { type DossierAdjudicationInput, type DossierInputs, buildDossier, renderDossierHtml } from '../domain/dossier/index.js';
import { adjudicationObject } from './adjudication.js';
import { record } from './ledger.js';
import type { BatchRecord, Deps } from './ports.js';
import { showRelease } from './releases.js';
import { parse } from './work-queries.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export const ExportDossierInput = z.strictObject({
  programId: Identifier,
  releaseId: ReleaseId,
  /** Who exports (the signed-in QA lead or PM). */
  actor: z.string().min(1).max(200),
});

/** Where a release's dossier files are written in the exports bucket. */
export const dossierKeys = (releaseId: string): { json: string; html: string } => ({
  json: `dossiers/${releaseId}/dossier.json`,
  html: `dossiers/${releaseId}/dossier.html`,
});

export interface DossierFile {
  key: string;
  sha256: string;
  bytes: number;
}

export interface DossierExport {
  releaseId: string;
  programId: string;
  protocol: string;
  generatedAt: string;
  json: DossierFile;
  html: DossierFile;
  /** The chain verified at export time, and the release's anchor in it. */
  ledger: { verified: boolean; anchorHolds: boolean; head: { seq: number; hash: string } | null };
}

/** Every stored version of a protocol, 1, 2, … up to the first one missing past `atLeast`. */
async function protocolVersions(deps: Deps, protocolId: string, atLeast: number): Promise<ProtocolVersion[]> {
  const out: ProtocolVersion[] = [];
  for (let v = 1; ; v++) {
    const p = await deps.repo.getProtocolVersion(protocolId, v);
    if (p) out.push(p);
    else if (v > atLeast) return out;
  }
}

/** Gathers the dossier's inputs (read-only). */
export async function gatherDossierInputs(deps: Deps, req: { programId: string; releaseId: string; actor: string }): Promise<DossierInputs> {
  const release = await showRelease(deps, { programId: req.programId, releaseId: req.releaseId });
  const ref = `${release.protocolId}@${release.version}`;
  const [versions, workforces, scorecards, rounds, adjudications, cases, ledger, chain] = await Promise.all([
    protocolVersions(deps, release.protocolId, release.version),
    deps.repo.listWorkforces(req.programId),
    deps.repo.listScorecards(req.programId, release.protocolId),
    deps.repo.listRounds(req.programId),
    deps.repo.listAdjudications(req.programId),
    deps.repo.listCases(req.programId),
    deps.repo.listLedger(req.programId),
    deps.repo.readLedgerChain(req.programId),
  ]);
  const batches: BatchRecord[] = [];
  for (const r of rounds) batches.push(...(await deps.repo.listRoundBatches(req.programId, r.round)));
  const ofVersion = batches.filter((b) => b.protocol === ref);
  const scores = [];
  const batchLabels = [];
  for (const b of ofVersion) {
    const s = await deps.repo.getScore(b.batchId);
    if (s) scores.push(s);
    batchLabels.push(...(await deps.repo.listBatchLabels(b.batchId)));
  }
  const adjudicationInputs: DossierAdjudicationInput[] = [];
  for (const a of adjudications.filter((x) => x.protocol === ref)) {
    const key = adjudicationObject(a.adjudicationId);
    const bytes = a.status === 'decided' ? await deps.objects.getBytes(deps.buckets.exports, key) : undefined;
    adjudicationInputs.push({ ...a, ...(bytes ? { record: { key, sha256: sha256(bytes) } } : {}) });
  }
  // The labels an adjudication replaced, for the re-annotation history.
  const caseLabels = [];
  for (const caseId of [...new Set(release.labels.filter((l) => l.adjudicationId).map((l) => l.caseId))]) {
    caseLabels.push(...(await deps.repo.listCaseLabels(caseId)));
  }
  const verdict = verifyLedgerChain(chain.items, chain.keys, [release.ledgerHead]);
  return {
    generatedAt: deps.clock.now().toISOString(),
    generatedBy: req.actor,
    release,
    manifestKey: releaseManifestKey(req.programId, release.releaseId),
    manifestSha256: release.manifestSha256,
    protocolVersions: versions,
    workforces,
    scorecards,
    batches,
    scores,
    adjudications: adjudicationInputs,
    cases,
    caseLabels,
    batchLabels,
    ledger,
    ledgerCheck: {
      head: verdict.events > 0 ? verdict.head : null,
      events: verdict.events,
      ok: verdict.ok,
      problems: verdict.problems.filter((p) => p.kind !== 'duplicate').map((p) => p.message),
      anchorHolds: !verdict.problems.some((p) => p.kind === 'anchor-mismatch'),
    },
  };
}

/**
 * Exports the dossier of a release to the exports bucket (JSON and printable
 * HTML) and records each file in the ledger. See the primary course above.
 *
 * @example await exportDossier(deps, { programId: 'demo', releaseId: 'rel-0123456789abcdef', actor: 'qa:quinn' })
 */
export async function exportDossier(deps: Deps, input: z.input<typeof ExportDossierInput>): Promise<DossierExport> {
  const req = parse(ExportDossierInput, input);
  const dossier = buildDossier(await gatherDossierInputs(deps, req));
  const keys = dossierKeys(req.releaseId);
  const json = new TextEncoder().encode(`${JSON.stringify(dossier, null, 2)}\n`);
  const html = new TextEncoder().encode(renderDossierHtml(dossier));
  await deps.objects.putBytes(deps.buckets.exports, keys.json, json, 'application/json');
  await deps.objects.putBytes(deps.buckets.exports, keys.html, html, 'text/html; charset=utf-8');
  const files = { json: { key: keys.json, sha256: sha256(json), bytes: json.byteLength }, html: { key: keys.html, sha256: sha256(html), bytes: html.byteLength } };
  for (const [kind, f] of Object.entries(files)) {
    await record(deps, {
      eventId: `${req.programId}:export:dossier:${req.releaseId}:${kind}:${f.sha256.slice(0, 16)}`,
      programId: req.programId,
      type: 'export.created',
      actor: req.actor,
      protocol: dossier.release.protocol,
      subject: req.releaseId,
      reason: `dossier of release ${req.releaseId} (${kind.toUpperCase()}): ${dossier.release.labels} labels, ${dossier.workforces.length} workforces, ${dossier.adjudications.length} adjudications; ledger ${dossier.ledger.verified ? 'verified' : 'does NOT verify'}`,
      data: { what: 'dossier', key: f.key, sha256: f.sha256, rows: dossier.release.labels, releaseId: req.releaseId },
    });
  }
  return {
    releaseId: req.releaseId,
    programId: req.programId,
    protocol: dossier.release.protocol,
    generatedAt: dossier.generatedAt,
    ...files,
    ledger: { verified: dossier.ledger.verified, anchorHolds: dossier.ledger.anchorHolds, head: dossier.ledger.head },
  };
}

/**
 * A release's exported dossier file, HTML or JSON, as stored (undefined until
 * one was exported). The release must be the program's (NotFoundError otherwise).
 */
export async function readDossierFile(
  deps: Deps,
  input: { programId: string; releaseId: string; format: 'html' | 'json' },
): Promise<Uint8Array | undefined> {
  const req = parse(ExportDossierInput.omit({ actor: true }).extend({ format: z.enum(['html', 'json']) }), input);
  await showRelease(deps, { programId: req.programId, releaseId: req.releaseId });
  return deps.objects.getBytes(deps.buckets.exports, dossierKeys(req.releaseId)[req.format]);
}
