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
  undeclaredCaseAttributes,
  Workforce,
  type WorkforceInput,
} from '../domain/index.js';
import { goldSetObject } from './batch-key.js';
import { gateCase } from './deidentification-gate.js';
import { ConflictError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
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
        paused: input.paused ?? existing.paused,
        recentGold: input.recentGold ? parsed.recentGold : existing.recentGold,
        goldSeen: input.goldSeen ? parsed.goldSeen : existing.goldSeen,
      }
    : parsed;
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
  const object = goldSetObject(input.programId, input.protocolId);
  const existing = (await deps.objects.getJson<Record<string, GoldLabel>>(deps.buckets.gold, object)) ?? {};
  for (const g of gold) existing[g.caseId] = g;
  await deps.objects.putJson(deps.buckets.gold, object, existing);
  await deps.repo.putCases(
    input.programId,
    cases.map((c) => ({ ...c, goldPool: goldIds.has(c.caseId) })),
  );
  // What passed on an attestation instead of an inspection is flagged in the ledger, with who vouched for it.
  for (const c of cases) {
    const parts = attestedParts.get(c.caseId);
    if (!parts || !c.uninspectedFormatAttestation) continue;
    await record(deps, {
      eventId: `${input.programId}:${c.caseId}:format-attested:${createHash('sha256').update(JSON.stringify([c.imageKey, parts])).digest('hex').slice(0, 16)}`,
      programId: input.programId,
      type: 'case.format-attested',
      actor: c.uninspectedFormatAttestation.by,
      protocol: input.protocolVersion === undefined ? input.protocolId : `${input.protocolId}@${input.protocolVersion}`,
      subject: c.caseId,
      reason: c.uninspectedFormatAttestation.reason,
      data: { caseId: c.caseId, imageKey: c.imageKey, uninspected: parts },
    });
  }
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
