/**
 * Quarantine resolution: what a PM does with a case the de-identification gate
 * held back. The CLI (`goldline quarantine …`) calls these; the HTTP API will
 * call the same ones.
 *
 * A case is quarantined when its program's protocol quarantines gate failures
 * (`routing.onDeidentificationFailure: quarantine`), its routing rule would send
 * it to a vendor, and it has de-identification problems (gate findings, or no
 * attestation): `routeCase` then routes it to no one and marks it `quarantined`.
 * It stays pending, so every round routes it again and holds it back again; no
 * vendor batch, manifest, gold item or image copy ever holds it.
 *
 * Primary courses:
 * - {@link listQuarantined}: the protocol version; every pending case routing
 *   quarantines (work and gold), each with its problems; and every release the
 *   ledger records (who, when, why, what it overrode).
 * - {@link replaceQuarantinedImage}: check the case is quarantined → store the new
 *   image under a key built from the program id, case id and the image's
 *   SHA-256 → gate it as ingest does (the protocol's settings) → ledger
 *   `case.image-replaced` (who, old and new key, digest, findings) → set the case's
 *   image and findings (conditional on the old image). Clean: the case leaves
 *   quarantine and is routed like any other. Not clean: it stays, with the new
 *   findings. A release given on the old image no longer counts.
 * - {@link releaseQuarantinedCase}: check the case is quarantined → ledger
 *   `case.quarantine-released` (who, why, the problems it overrides, the image) →
 *   the release on the case (conditional on that image). The ledger comes first,
 *   as everywhere in Goldline: a crash in between leaves a recorded decision to
 *   re-apply, never an unrecorded release.
 *
 * Decision: a released case may go to vendors. Release is the PM's recorded
 * judgement that the listed findings do not identify anyone (a tool stamp, an
 * extension known to be harmless) — a case that should stay inside needs no
 * release, since routing rules can keep it internal. The release overrides
 * exactly the problems it lists, on that image: a new finding, or a replaced
 * image, quarantines the case again.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type Case,
  Identifier,
  type ProtocolVersion,
  QuarantineRelease,
  deidentificationProblems,
  isLedgerEvent,
  protocolRef,
  routeCase,
} from '../domain/index.js';
import { detectOtherFormat } from '../domain/deidentification-formats.js';
import { gateCase } from './deidentification-gate.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import { pendingReads } from './pending-cases.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';

/** A quarantined case as the PM sees it. */
export interface QuarantinedCase {
  caseId: string;
  imageKey: string;
  /** An expert-labelled gold case (held back from vendors as gold, too). */
  goldPool: boolean;
  /** The routing rule that would have sent it to a vendor. */
  ruleId: string;
  /** Why it is held back: the gate's findings (never a value from the image) and a missing attestation. */
  problems: string[];
}

export interface QuarantineList {
  protocol: string;
  /** What the protocol does with a case the gate stops: only `quarantine` holds cases here. */
  onDeidentificationFailure: 'internal' | 'quarantine';
  cases: QuarantinedCase[];
  /** Every release recorded in the ledger, oldest first: who, when, why, and what it overrode. */
  releases: { caseId: string; by: string; at: string; reason: string; overrides: string[] }[];
}


/** `id@version`, as batches and ledger events name a protocol. */
const ProtocolRef = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}@[1-9]\d{0,8}$/, 'a protocol reference id@version (e.g. chest-xray@1)');

const ListInput = z.strictObject({ programId: Identifier, protocol: ProtocolRef });
export type ListQuarantinedInput = z.input<typeof ListInput>;

const ReleaseInput = z.strictObject({
  programId: Identifier,
  protocol: ProtocolRef,
  caseId: Identifier,
  by: QuarantineRelease.shape.by,
  reason: QuarantineRelease.shape.reason,
});
export type ReleaseQuarantinedInput = z.input<typeof ReleaseInput>;

/** Most bytes a replacement image may have: the images a program labels are far smaller. */
export const MAX_REPLACEMENT_BYTES = 2 * 1024 * 1024 * 1024 - 1;

const ReplaceInput = z.strictObject({
  programId: Identifier,
  protocol: ProtocolRef,
  caseId: Identifier,
  by: QuarantineRelease.shape.by,
  image: z.custom<Uint8Array>((b) => b instanceof Uint8Array, 'the image must be bytes').refine((b) => b.length > 0, 'the image is empty').refine((b) => b.length <= MAX_REPLACEMENT_BYTES, 'the image is larger than 2 GiB'),
});
export type ReplaceQuarantinedInput = z.input<typeof ReplaceInput>;

/**
 * Every case the protocol quarantines, with its problems, by case id.
 *
 * @example (await listQuarantined(deps, { programId: 'demo-cxr', protocol: 'chest-xray@2' })).cases[0]
 * // { caseId: 'case-00017', imageKey: 'images/case-00017.png', goldPool: false, ruleId: 'adult-cxr-to-vendors',
 * //   problems: ['the PNG tEXt "Author" holds free text (12 bytes): remove the chunk'] }
 */
export async function listQuarantined(deps: Deps, input: ListQuarantinedInput): Promise<QuarantineList> {
  const { programId, protocol: ref } = parse(ListInput, input);
  const protocol = await loadProtocol(deps, ref);
  // A quarantined case is pending (planning passes it over): the pending-case index, a page at a time, not the program's case list.
  const cases: QuarantinedCase[] = [];
  for await (const page of pendingReads(deps, programId)) {
    for (const c of page) {
      const q = describeIfQuarantined(c, protocol);
      if (q) cases.push(q);
    }
  }
  cases.sort((a, b) => a.caseId.localeCompare(b.caseId));
  const releases = (await deps.repo.listLedger(programId))
    .filter(isLedgerEvent('case.quarantine-released'))
    .sort((a, b) => a.at.localeCompare(b.at) || a.eventId.localeCompare(b.eventId))
    .map((e) => ({ caseId: e.data.caseId, by: e.actor, at: e.at, reason: e.reason, overrides: e.data.overrides }));
  return { protocol: ref, onDeidentificationFailure: protocol.routing.onDeidentificationFailure, cases, releases };
}

/**
 * Releases a quarantined case with a recorded reason; it is then routed like any
 * other case, to vendors too. Refuses a case that is not quarantined.
 *
 * @example await releaseQuarantinedCase(deps, { programId, protocol: 'chest-xray@2', caseId: 'case-00017', by: 'pm:ana', reason: 'tEXt Author is the scanner vendor' })
 * // { caseId: 'case-00017', overrides: ['the PNG tEXt "Author" holds free text (12 bytes): remove the chunk'], eventId: '…' }
 */
export async function releaseQuarantinedCase(
  deps: Deps,
  input: ReleaseQuarantinedInput,
): Promise<{ caseId: string; overrides: string[]; eventId: string }> {
  const { programId, protocol: ref, caseId, by, reason } = parse(ReleaseInput, input);
  const protocol = await loadProtocol(deps, ref);
  const c = await quarantinedCase(deps, programId, caseId, protocol);
  const overrides = deidentificationProblems({ ...c, quarantineRelease: undefined });
  const release = QuarantineRelease.parse({ by, reason, at: deps.clock.now().toISOString(), imageKey: c.imageKey, overrides });
  const eventId = `${programId}:${caseId}:quarantine-released:${digest(JSON.stringify([c.imageKey, overrides, by, reason])).slice(0, 16)}`;
  await record(deps, {
    eventId,
    programId,
    type: 'case.quarantine-released',
    actor: by,
    protocol: ref,
    subject: caseId,
    reason,
    data: { caseId, imageKey: c.imageKey, overrides, goldPool: c.goldPool, mayReachVendors: true },
  });
  if (!(await deps.repo.releaseCase(programId, caseId, release))) {
    throw new ConflictError(`case ${caseId} changed while it was released (assigned, or its image replaced): list the quarantine again`);
  }
  return { caseId, overrides, eventId };
}

/**
 * Replaces a quarantined case's image and gates the new one. Returns whether the
 * case is still quarantined, and with what.
 *
 * @example await replaceQuarantinedImage(deps, { programId, protocol: 'chest-xray@2', caseId: 'case-00017', by: 'pm:ana', image })
 * // { caseId: 'case-00017', imageKey: 'replacements/demo-cxr/case-00017/9f86d081….png', quarantined: false, problems: [] }
 */
export async function replaceQuarantinedImage(
  deps: Deps,
  input: ReplaceQuarantinedInput,
): Promise<{ caseId: string; imageKey: string; quarantined: boolean; problems: string[] }> {
  const { programId, protocol: ref, caseId, by, image } = parse(ReplaceInput, input);
  const protocol = await loadProtocol(deps, ref);
  const c = await quarantinedCase(deps, programId, caseId, protocol);
  const sha256 = digest(image);
  // The key is built from validated ids and the digest: nothing the caller typed.
  const imageKey = `replacements/${programId}/${caseId}/${sha256}.${extensionOf(image)}`;
  await deps.objects.putBytes(deps.buckets.images, imageKey, image, 'application/octet-stream');
  // The attestation for an uninspectable format was given on the old image: the new one is judged without it.
  // The other files of a series are gated again with it: a finding in one of them keeps the case in quarantine.
  const seriesKeys = c.seriesKeys?.filter((k) => k !== c.imageKey);
  const candidate: Case = { ...c, imageKey, seriesKeys, uninspectedFormatAttestation: undefined, quarantineRelease: undefined };
  const findings = await gateCase(deps, candidate, protocol.deidentification);
  const after: Case = { ...candidate, deidentificationFindings: findings };
  const decision = routeCase(after, protocol);
  await record(deps, {
    eventId: `${programId}:${caseId}:image-replaced:${sha256.slice(0, 16)}`,
    programId,
    type: 'case.image-replaced',
    actor: by,
    protocol: ref,
    subject: caseId,
    reason: decision.quarantined ? `the new image is still held back: ${findings.length} finding(s)` : 'the new image passes the de-identification gate',
    data: { caseId, from: c.imageKey, to: imageKey, sha256, findings, quarantined: decision.quarantined === true },
  });
  if (!(await deps.repo.replaceCaseImage(programId, caseId, { from: c.imageKey, imageKey, deidentificationFindings: findings }))) {
    throw new ConflictError(`case ${caseId} changed while its image was replaced (assigned, or replaced meanwhile): list the quarantine again`);
  }
  return { caseId, imageKey, quarantined: decision.quarantined === true, problems: decision.quarantined ? deidentificationProblems(after) : [] };
}

/**
 * The protocol version a program runs, as its latest dispatched round names it
 * (one program runs one protocol): what the CLI uses when no `--protocol` is given.
 *
 * @example await currentProtocolRef(deps, 'demo-cxr') // 'chest-xray@1'
 */
export async function currentProtocolRef(deps: Deps, programId: string): Promise<string | undefined> {
  let latest: string | undefined;
  for (let round = 1; ; round++) {
    const r = await deps.repo.getRound(programId, round);
    if (!r) return latest;
    const batch = r.batchIds.length ? await deps.repo.getBatch(r.batchIds[0]) : undefined;
    latest = batch?.protocol ?? latest;
  }
}

// ------------------------------------------------------------------ helpers

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw new InvalidInputError(r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  return r.data;
}

async function loadProtocol(deps: Deps, ref: string): Promise<ProtocolVersion> {
  const protocol = await findProtocol(deps, ref);
  if (!protocol) throw new NotFoundError(`protocol ${ref} not found`);
  return protocol;
}

function describeIfQuarantined(c: Case & { goldPool: boolean }, protocol: ProtocolVersion): QuarantinedCase | undefined {
  const decision = routeCase(c, protocol);
  if (!decision.quarantined) return undefined;
  return { caseId: c.caseId, imageKey: c.imageKey, goldPool: c.goldPool, ruleId: decision.ruleId, problems: deidentificationProblems(c) };
}

/** The case, if it is pending and quarantined under this protocol; a clear refusal otherwise. */
async function quarantinedCase(deps: Deps, programId: string, caseId: string, protocol: ProtocolVersion) {
  const c = await deps.repo.getCase(programId, caseId);
  if (!c) throw new NotFoundError(`case ${caseId} not found in program ${programId}`);
  if (c.state !== 'pending' || !describeIfQuarantined(c, protocol)) {
    const why =
      c.state !== 'pending'
        ? `it is ${c.state}`
        : protocol.routing.onDeidentificationFailure !== 'quarantine'
          ? `protocol ${protocolRef(protocol)} keeps gated cases internal instead of quarantining them`
          : deidentificationProblems(c).length === 0
            ? 'it has no de-identification problem left'
            : 'its routing rule keeps it internal';
    throw new ConflictError(`case ${caseId} is not quarantined: ${why}`);
  }
  return c;
}

const digest = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** A file extension for the stored replacement, from its leading bytes. */
function extensionOf(image: Uint8Array): string {
  if (image.length >= 132 && image[128] === 0x44 && image[129] === 0x49 && image[130] === 0x43 && image[131] === 0x4d) return 'dcm';
  const format = detectOtherFormat(image.subarray(0, 1024));
  return { nifti: 'nii', 'nifti-gzip': 'nii.gz', png: 'png', jpeg: 'jpg', netpbm: 'pnm', unknown: 'bin' }[format];
}
