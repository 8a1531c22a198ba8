/**
 * Case ingest through the API — primary course:
 * 1. `ingestCaseManifest`: parse the PM's manifest (JSON or CSV, domain/case-manifest.ts)
 *    whole; for each new case choose the image key — an opaque key
 *    (opaque-images.ts: random, unlinkable to the case id, never from the
 *    caller's file name), which is also the key vendors will be given, so the
 *    image is never copied — and issue a presigned, write-once PUT bound to the
 *    declared size and SHA-256;
 *    keep the pending ingest (gold bucket: it may carry gold answers).
 * 2. The PM uploads each image to its slot.
 * 3. `completeCaseIngest`: the cases whose image is there are ingested
 *    (`ingestCases`, setup-program.ts): the de-identification gate reads each
 *    image and the answer gives each case's verdict. Cases still waiting for
 *    their image are listed; completing again ingests them (a case is stored once).
 */
import { z } from 'zod';
import {
  type CaseInput,
  cryptoRandomSource,
  type GoldLabelInput,
  IMAGE_EXTENSIONS,
  Identifier,
  ManifestCase,
  ManifestError,
  deidentificationProblems,
  imageExtension,
  parseCaseManifest,
  routeCase,
} from '../domain/index.js';
import { ProtocolRef } from './assignments.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { isOpaqueImageKey, newOpaqueImageKey } from './opaque-images.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { ingestCases } from './setup-program.js';
import { parse } from './work-queries.js';

/** How long an image upload slot lives. */
export const IMAGE_UPLOAD_SECONDS = 3600;

/** Where a pending ingest is kept (gold bucket: a manifest may carry gold answers). */
export const caseIngestObject = (programId: string, ingestId: string): string => `case-ingests/${programId}/${ingestId}.json`;

const IngestId = z.string().regex(/^[a-z0-9]{8,40}$/, 'an ingest id is 8 to 40 lowercase letters or digits');

export const IngestCaseManifestInput = z.strictObject({
  programId: Identifier,
  /** The protocol version the cases are ingested under (its de-identification settings judge them). */
  protocol: ProtocolRef,
  format: z.enum(['json', 'csv']),
  body: z.union([z.string(), z.instanceof(Uint8Array)]),
  actor: z.string().min(1).max(200),
});

const PendingIngest = z.strictObject({
  ingestId: IngestId,
  programId: Identifier,
  protocol: ProtocolRef,
  actor: z.string(),
  createdAt: z.iso.datetime(),
  cases: z.array(ManifestCase.extend({ imageKey: z.string().min(1) })),
});
type PendingIngest = z.infer<typeof PendingIngest>;

export interface ImageSlot {
  caseId: string;
  imageKey: string;
  url: string;
  /** Send exactly these headers with the PUT (they are signed). */
  headers: Record<string, string>;
}

export interface ManifestAccepted {
  ingestId: string;
  protocol: string;
  expiresAt: string;
  slots: ImageSlot[];
  /** Case ids the program has already (not ingested again). */
  existing: string[];
}

/**
 * Takes a case manifest: parses it whole (a bad row refuses the manifest, with
 * every problem), then issues one image upload slot per new case.
 *
 * @example await ingestCaseManifest(deps, { programId: 'knee-mri', protocol: 'knee@1', format: 'csv', body, actor: 'pm:alice' })
 */
export async function ingestCaseManifest(deps: Deps, input: z.input<typeof IngestCaseManifestInput>): Promise<ManifestAccepted> {
  const req = parse(IngestCaseManifestInput, input);
  const protocol = await findProtocol(deps, req.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${req.protocol} not found`);
  let cases: ManifestCase[];
  try {
    cases = parseCaseManifest(req.format, typeof req.body === 'string' ? new TextEncoder().encode(req.body) : req.body);
  } catch (e) {
    if (e instanceof ManifestError) throw new InvalidInputError(`manifest: ${e.message}`);
    throw e;
  }
  const goldProblems = cases.flatMap((c) =>
    c.gold && protocol.task.type === 'classification' && (typeof c.gold.label !== 'string' || !protocol.task.classes.includes(c.gold.label))
      ? [`${c.caseId}: gold label ${JSON.stringify(c.gold.label).slice(0, 64)} is not one of ${protocol.task.classes.join(', ')}`]
      : [],
  );
  if (goldProblems.length) throw new InvalidInputError(`manifest: ${goldProblems.join('; ')}`);

  // Only the manifest's ids are looked up (batched gets): a program of a million cases is not read to take a hundred.
  const known = await deps.repo.existingCaseIds(req.programId, cases.map((c) => c.caseId));
  const ingestId = deps.random.token(24);
  const fresh = cases.filter((c) => !known.has(c.caseId));
  const pending: PendingIngest = {
    ingestId,
    programId: req.programId,
    protocol: req.protocol,
    actor: req.actor,
    createdAt: deps.clock.now().toISOString(),
    // Opaque keys from the crypto source (not the seeded deps.random); the caller's file name gives only the extension.
    cases: fresh.map((c) => ({ ...c, imageKey: newOpaqueImageKey(cryptoRandomSource, imageExtension(c.image.fileName)) })),
  };
  await deps.objects.putJson(deps.buckets.gold, caseIngestObject(req.programId, ingestId), PendingIngest.parse(pending));
  const slots: ImageSlot[] = [];
  for (const c of pending.cases) {
    const put = await deps.objects.presignPut(deps.buckets.images, c.imageKey, {
      sizeBytes: c.image.sizeBytes,
      sha256Base64: Buffer.from(c.image.sha256Hex, 'hex').toString('base64'),
      contentType: IMAGE_EXTENSIONS[imageExtension(c.image.fileName)!],
      expiresSeconds: IMAGE_UPLOAD_SECONDS,
    });
    slots.push({ caseId: c.caseId, imageKey: c.imageKey, url: put.url, headers: put.headers });
  }
  return {
    ingestId,
    protocol: req.protocol,
    expiresAt: new Date(deps.clock.now().getTime() + IMAGE_UPLOAD_SECONDS * 1000).toISOString(),
    slots,
    existing: cases.filter((c) => known.has(c.caseId)).map((c) => c.caseId),
  };
}

export const CompleteCaseIngestInput = z.strictObject({ programId: Identifier, ingestId: z.string().min(1).max(64), actor: z.string().min(1).max(200) });

/**
 * What the gate said of a case: `clear` (may reach vendors), `internal-only`
 * (kept from vendors, labelled inside) or `quarantined` (held back for a PM).
 */
export interface CaseVerdict {
  caseId: string;
  verdict: 'clear' | 'internal-only' | 'quarantined';
  findings: string[];
  gold: boolean;
}

export interface IngestCompleted {
  ingestId: string;
  protocol: string;
  cases: CaseVerdict[];
  /** Cases whose image is not uploaded yet: complete again once it is. */
  awaitingImage: string[];
  /** Attribute values the protocol does not declare (reported, not refused). */
  undeclared: { caseId: string; problems: string[] }[];
}

/**
 * Ingests the cases of a manifest whose images are uploaded: the
 * de-identification gate runs on each, and each case's verdict is returned.
 * Recorded in the ledger (`cases.ingested`, by `ingestCases`, before the cases are stored) for the cases new to the
 * program, with the gate's verdict on each (a repeat stores and records nothing new).
 */
export async function completeCaseIngest(deps: Deps, input: z.input<typeof CompleteCaseIngestInput>): Promise<IngestCompleted> {
  const req = parse(CompleteCaseIngestInput, input);
  const id = IngestId.safeParse(req.ingestId);
  const stored = id.success ? await deps.objects.getJson<unknown>(deps.buckets.gold, caseIngestObject(req.programId, id.data)) : undefined;
  if (stored === undefined) throw new NotFoundError(`case ingest ${req.ingestId.slice(0, 64)} not found`);
  const pending = PendingIngest.parse(stored);
  const [protocolId, version] = pending.protocol.split('@');
  const protocol = await findProtocol(deps, pending.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${pending.protocol} not found`);

  const present = [];
  const awaitingImage: string[] = [];
  for (const c of pending.cases) {
    if ((await deps.objects.getHead(deps.buckets.images, c.imageKey, 1)) === undefined) awaitingImage.push(c.caseId);
    else present.push(c);
  }
  const cases: CaseInput[] = present.map((c) => ({
    caseId: c.caseId,
    imageKey: c.imageKey,
    // The upload slot's key is opaque: it is the image vendors get, as it is.
    ...(isOpaqueImageKey(c.imageKey) ? { opaqueImage: { key: c.imageKey, of: c.imageKey } } : {}),
    modality: c.modality,
    bodyPart: c.bodyPart,
    site: c.site,
    ...(c.scanner ? { scanner: c.scanner } : {}),
    subgroup: c.subgroup,
    flags: c.flags,
    deidentified: c.deidentified,
    ...(c.grid ? { grid: c.grid } : {}),
    ...(c.uninspectedFormatAttestation ? { uninspectedFormatAttestation: c.uninspectedFormatAttestation } : {}),
  }));
  const gold: GoldLabelInput[] = present.flatMap((c) => (c.gold ? [{ caseId: c.caseId, label: c.gold.label, expertId: c.gold.expertId }] : []));
  const result =
    cases.length > 0
      ? await ingestCases(deps, {
          programId: req.programId,
          protocolId,
          protocolVersion: Number(version),
          cases,
          gold,
          actor: req.actor,
          ingestId: pending.ingestId,
          awaitingImage,
        })
      : { gated: 0, undeclared: [] };

  const verdicts: CaseVerdict[] = [];
  for (const c of present) {
    const stored = await deps.repo.getCase(req.programId, c.caseId);
    if (!stored) continue;
    const problems = deidentificationProblems(stored);
    const decision = routeCase(stored, protocol);
    verdicts.push({
      caseId: c.caseId,
      verdict: problems.length === 0 ? 'clear' : decision.quarantined ? 'quarantined' : 'internal-only',
      findings: problems,
      gold: stored.goldPool,
    });
  }
  return { ingestId: pending.ingestId, protocol: pending.protocol, cases: verdicts, awaitingImage, undeclared: result.undeclared };
}
