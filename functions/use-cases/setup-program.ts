/**
 * Program setup by a PM: protocol versions, workforces, cases and gold labels.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  Case,
  type CaseInput,
  DeidentificationSettings,
  GoldLabel,
  type GoldLabelInput,
  ProtocolVersion,
  type ProtocolVersionInput,
  canonicalJson,
  chunkIngest,
  undeclaredCaseAttributes,
  Workforce,
  type WorkforceInput,
} from '../domain/index.js';
import { goldSetObject } from './batch-key.js';
import { gateCase } from './deidentification-gate.js';
import { ConflictError, NotFoundError } from './errors.js';
import { assignOpaqueImages } from './opaque-images.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { currentProtocolRef } from './quarantine.js';
import { recordWorkforceTerms } from './workforces.js';

const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Registers a protocol version. Versions are immutable: registering the same
 * id@version again with identical content is a no-op; with other content it is
 * refused (write a new version instead). With a program, `protocol.registered`
 * goes to its ledger first (a protocol version is not a program's, so without
 * one DispatchRound records it in the ledger of the program that first uses it).
 */
export async function registerProtocolVersion(
  deps: Deps,
  input: ProtocolVersionInput,
  ctx: { programId?: string; actor?: string } = {},
): Promise<ProtocolVersion> {
  const p = ProtocolVersion.parse(input);
  const stored = await deps.repo.getProtocolVersion(p.protocolId, p.version);
  if (stored && !isDeepStrictEqual(stored, p)) {
    throw new ConflictError(`protocol ${p.protocolId}@${p.version} exists with other content: versions are immutable`);
  }
  if (ctx.programId) await recordProtocolRegistered(deps, ctx.programId, p, ctx.actor ?? 'pm');
  if ((await deps.repo.putProtocolVersion(p)) === 'exists') {
    const now = await deps.repo.getProtocolVersion(p.protocolId, p.version);
    if (!isDeepStrictEqual(now, p)) {
      throw new ConflictError(`protocol ${p.protocolId}@${p.version} exists with other content: versions are immutable`);
    }
  }
  return p;
}

/**
 * `protocol.registered` in a program's ledger: which version, with the SHA-256
 * of its canonical JSON (what exactly governs the program's labels). One event
 * per program and version (deterministic id).
 */
export async function recordProtocolRegistered(deps: Deps, programId: string, p: ProtocolVersion, actor: string): Promise<void> {
  const ref = `${p.protocolId}@${p.version}`;
  await record(deps, {
    eventId: `${programId}:protocol:${ref}:registered`,
    programId,
    type: 'protocol.registered',
    actor,
    protocol: ref,
    subject: ref,
    reason: `protocol ${ref} (${p.task.type}) governs this program's work`,
    data: { protocolId: p.protocolId, version: p.version, taskType: p.task.type, sha256: sha256Hex(canonicalJson(p)) },
  });
}

/**
 * Registers or updates a workforce (capacity, price, SLA, qualifications). What
 * Goldline learnt about it — probation or suspension, the gold it has seen — is
 * kept unless the PM sets the status explicitly. The ledger comes first:
 * `workforce.created` for a new one; for a known one, `workforce.changed` /
 * `paused` / `resumed` for the terms that differ and `workforce.status-changed`
 * for a status the PM sets.
 */
export async function registerWorkforce(deps: Deps, programId: string, input: WorkforceInput, actor = 'pm'): Promise<Workforce> {
  const parsed = Workforce.parse(input);
  const existing = (await deps.repo.listWorkforces(programId)).find((x) => x.workforceId === parsed.workforceId);
  if (!existing) {
    const { recentGold: _r, goldSeen: _g, ...terms } = parsed;
    await record(deps, {
      eventId: `${programId}:workforce:${parsed.workforceId}:created`,
      programId,
      type: 'workforce.created',
      actor,
      protocol: (await currentProtocolRef(deps, programId)) ?? '',
      subject: parsed.workforceId,
      reason: `${parsed.kind} workforce registered: ${parsed.capacityPerRound} cases/round at ${parsed.pricePerCase} per case, SLA ${parsed.slaHours} h`,
      data: terms,
    });
    await deps.repo.putWorkforce(programId, parsed);
    return parsed;
  }
  const status = input.status ?? existing.status;
  if (status !== existing.status) {
    await record(deps, {
      eventId: `${programId}:workforce:${parsed.workforceId}:status:${sha256Hex(JSON.stringify([deps.clock.now().toISOString(), actor, existing.status, status])).slice(0, 16)}`,
      programId,
      type: 'workforce.status-changed',
      actor,
      protocol: (await currentProtocolRef(deps, programId)) ?? '',
      subject: parsed.workforceId,
      reason: `status set by a PM at registration: ${existing.status} → ${status}`,
      data: { workforceId: parsed.workforceId, from: existing.status, to: status },
    });
  }
  const wanted = {
    pricePerCase: parsed.pricePerCase,
    capacityPerRound: parsed.capacityPerRound,
    slaHours: parsed.slaHours,
    qualifications: parsed.qualifications,
    paused: input.paused ?? existing.paused,
  };
  await recordWorkforceTerms(deps, programId, existing, wanted, actor);
  const w: Workforce = {
    ...parsed,
    qualifications: [...new Set(parsed.qualifications)].sort(),
    status,
    paused: wanted.paused,
    recentGold: input.recentGold ? parsed.recentGold : existing.recentGold,
    goldSeen: input.goldSeen ? parsed.goldSeen : existing.goldSeen,
  };
  await deps.repo.putWorkforce(programId, w);
  return w;
}

/**
 * Ingests case rows and expert gold labels. A case with a gold label joins the
 * gold pool (it is used as hidden gold, never dispatched as work). Gold answers
 * go to the gold bucket only.
 *
 * The de-identification gate (`deidentification-gate.ts`) reads every image
 * object of each case and records what it finds on the case; routing then keeps
 * such a case away from vendors. It judges with the `deidentification` settings
 * of `protocolVersion` when given, else with the Basic Profile and no option.
 */
export async function ingestCases(
  deps: Deps,
  input: {
    programId: string;
    protocolId: string;
    protocolVersion?: number;
    cases: readonly CaseInput[];
    gold: readonly GoldLabelInput[];
    /** Who ingests (`<role>:<name>`); `pm` when not known. */
    actor?: string;
    /** The API ingest these cases come from, and its cases still awaiting their image (recorded with the event). */
    ingestId?: string;
    awaitingImage?: readonly string[];
  },
): Promise<{ cases: number; gold: number; gated: number; undeclared: { caseId: string; problems: string[] }[] }> {
  const settings = await gateSettings(deps, input.protocolId, input.protocolVersion);
  // A quarantine release is given only by a PM through quarantine.ts (and recorded in the ledger), never by a manifest.
  // Nor is an explicit assignment (assignments.ts): a manifest carries neither.
  const parsed = input.cases.map((c) => ({ ...Case.parse(c), quarantineRelease: undefined, assignment: undefined }));
  const cases: Case[] = [];
  const attestedParts = new Map<string, string[]>();
  const queue = parsed.slice();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const attested: string[] = [];
        cases.push({ ...c, deidentificationFindings: [...c.deidentificationFindings, ...(await gateCase(deps, c, settings, attested))] });
        if (attested.length > 0) attestedParts.set(c.caseId, attested);
      }
    }),
  );
  cases.sort((a, b) => a.caseId.localeCompare(b.caseId));
  const gold = input.gold.map((g) => GoldLabel.parse(g));
  const goldIds = new Set(gold.map((g) => g.caseId));
  const protocol = input.protocolVersion === undefined ? input.protocolId : `${input.protocolId}@${input.protocolVersion}`;

  // The ledger first (the commit point): the gate's verdict on every case new to
  // the program, under ids fixed by the manifest, so a retry after a crash
  // part-way through the writes below appends nothing twice. A large ingest is
  // recorded in chunks (chunkIngest), each event within DynamoDB's item limit;
  // the cases are stored only after every chunk is, so a retry finds the same
  // new cases, makes the same chunks and appends only the missing ones.
  // Which of these cases the program has already: read by id (the program's case list is never read).
  const known = await deps.repo.existingCaseIds(input.programId, cases.map((c) => c.caseId));
  const fresh = cases.filter((c) => !known.has(c.caseId));
  if (fresh.length > 0) {
    const verdicts = fresh.map((c) => ({
      caseId: c.caseId,
      verdict: c.deidentificationFindings.length > 0 ? ('quarantined' as const) : attestedParts.has(c.caseId) ? ('attested' as const) : ('clear' as const),
      findings: c.deidentificationFindings.length,
    }));
    const manifest = sha256Hex(JSON.stringify(cases.map((c) => [c.caseId, c.imageKey]))).slice(0, 16);
    const base = `${input.programId}:ingest:${input.ingestId ?? 'setup'}:${manifest}`;
    for (const part of chunkIngest(verdicts, input.awaitingImage ?? [])) {
      const held = part.verdicts.filter((v) => v.verdict === 'quarantined');
      const of = part.chunks > 1 ? ` (part ${part.chunk + 1} of ${part.chunks} of ${verdicts.length})` : '';
      await record(deps, {
        // One event keeps the id it always had; a chunked ingest's ids end in `:chunk:<i>`.
        eventId: part.chunks > 1 ? `${base}:chunk:${part.chunk}` : base,
        programId: input.programId,
        type: 'cases.ingested',
        actor: input.actor ?? 'pm',
        protocol,
        subject: input.ingestId ? `ingest ${input.ingestId}` : `ingest of ${verdicts.length} case(s)`,
        reason: `${part.verdicts.length} case(s) ingested${of}: ${part.verdicts.filter((v) => v.verdict !== 'quarantined').length} clear (${part.verdicts.filter((v) => v.verdict === 'attested').length} on an attestation), ${held.length} held from vendors by the de-identification gate`,
        data: {
          ...(input.ingestId ? { ingestId: input.ingestId } : {}),
          cases: part.verdicts.map((v) => v.caseId),
          gated: held.map((v) => v.caseId),
          ...(input.awaitingImage ? { awaitingImage: part.awaitingImage } : {}),
          verdicts: part.verdicts,
          chunk: part.chunk,
          chunks: part.chunks,
        },
      });
    }
  }
  // What passed on an attestation instead of an inspection is flagged in the ledger, with who vouched for it.
  for (const c of cases) {
    const parts = attestedParts.get(c.caseId);
    if (!parts || !c.uninspectedFormatAttestation) continue;
    await record(deps, {
      eventId: `${input.programId}:${c.caseId}:format-attested:${sha256Hex(JSON.stringify([c.imageKey, parts])).slice(0, 16)}`,
      programId: input.programId,
      type: 'case.format-attested',
      actor: c.uninspectedFormatAttestation.by,
      protocol,
      subject: c.caseId,
      reason: c.uninspectedFormatAttestation.reason,
      data: { caseId: c.caseId, imageKey: c.imageKey, uninspected: parts },
    });
  }
  // Each new case's image gets its opaque key (one copy per case, none for an API ingest's opaque slot).
  const stored = await assignOpaqueImages(
    deps,
    cases.filter((c) => !known.has(c.caseId)),
  );
  const object = goldSetObject(input.programId, input.protocolId);
  const existing = (await deps.objects.getJson<Record<string, GoldLabel>>(deps.buckets.gold, object)) ?? {};
  for (const g of gold) existing[g.caseId] = g;
  await deps.objects.putJson(deps.buckets.gold, object, existing);
  await deps.repo.putCases(
    input.programId,
    stored.map((c) => ({ ...c, goldPool: goldIds.has(c.caseId) })),
  );
  return {
    cases: cases.length,
    gold: gold.length,
    gated: cases.filter((c) => c.deidentificationFindings.length > 0).length,
    undeclared: await undeclaredAttributes(deps, input.protocolId, input.protocolVersion, cases),
  };
}

/**
 * Cases whose attribute values the protocol version does not declare (a
 * subgroup value no routing rule can name): reported to the PM, not refused —
 * the manifest or the protocol's `attributes` needs a look before a round.
 */
async function undeclaredAttributes(deps: Deps, protocolId: string, version: number | undefined, cases: readonly Case[]) {
  const protocol = version === undefined ? undefined : await deps.repo.getProtocolVersion(protocolId, version);
  if (!protocol) return [];
  return cases.flatMap((c) => {
    const problems = undeclaredCaseAttributes(c, protocol);
    return problems.length ? [{ caseId: c.caseId, problems }] : [];
  });
}

/** The gate's settings: the named protocol version's, or the strictest (no option accepted). */
async function gateSettings(deps: Deps, protocolId: string, version: number | undefined): Promise<DeidentificationSettings> {
  if (version === undefined) return DeidentificationSettings.parse({});
  const protocol = await deps.repo.getProtocolVersion(protocolId, version);
  if (!protocol) throw new NotFoundError(`protocol ${protocolId}@${version} not found`);
  return protocol.deidentification;
}
