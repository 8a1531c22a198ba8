/**
 * Contracts: register, amend and read a workforce's contract for a protocol,
 * and settle a batch under the version in force. The ledger is the store: each
 * version is one event (`contract.registered` for version 1,
 * `contract.amended` after), with a deterministic id
 * (`<program>:contract:<contractId>@<version>`), so a retry appends nothing and
 * two PMs amending at once cannot both write version n+1.
 *
 * Migration: a workforce and protocol with no contract get version 1 made from
 * the workforce's terms (price per case, SLA) and the protocol's rejection
 * penalty — exactly what settlement paid before — recorded by the first
 * settlement that needs it (`origin: workforce-terms`). No program breaks and
 * no amount changes until a PM registers or amends a contract.
 */
import {
  type BatchFacts,
  batchFactsFromLedger,
  canonicalJson,
  type Contract,
  ContractTerms,
  type ContractTermsInput,
  changedTerms,
  contractForBatch,
  contractFromWorkforceTerms,
  contractIdOf,
  contractRef,
  contractsFromLedger,
  latenessOf,
  type SettlementLine,
  settlementLine,
  Contract as ContractSchema,
} from '../domain/index.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { BatchRecord, Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';

const eventIdOf = (programId: string, contractId: string, version: number) => `${programId}:contract:${contractId}@${version}`;

/** Every version of a program's contracts (optionally one workforce's), oldest first. */
export async function listContracts(deps: Deps, programId: string, filter: { workforceId?: string } = {}): Promise<Contract[]> {
  const all = contractsFromLedger(await deps.repo.listLedger(programId));
  return all.filter((c) => !filter.workforceId || c.workforceId === filter.workforceId);
}

/** One contract's versions, oldest first (404 when it has none). */
export async function showContract(deps: Deps, programId: string, contractId: string): Promise<Contract[]> {
  const versions = (await listContracts(deps, programId)).filter((c) => c.contractId === contractId);
  if (versions.length === 0) throw new NotFoundError(`contract ${contractId} not found in program ${programId}`);
  return versions;
}

export interface RegisterContractInput {
  programId: string;
  workforceId: string;
  protocolId: string;
  validFrom: string;
  validTo?: string;
  terms: ContractTermsInput;
  actor: string;
  reason?: string;
}

/**
 * Version 1 of a workforce's contract for a protocol. The workforce must be
 * registered in the program. Registering the same terms again answers the
 * stored version (`created: false`); other terms are refused (amend instead).
 *
 * @example await registerContract(deps, { programId: 'p', workforceId: 'vendor-a', protocolId: 'chest-xray', validFrom: '2026-11-01T00:00:00.000Z', terms, actor: 'pm:alice' })
 */
export async function registerContract(deps: Deps, input: RegisterContractInput): Promise<{ contract: Contract; created: boolean }> {
  if (!(await deps.repo.listWorkforces(input.programId)).some((w) => w.workforceId === input.workforceId)) {
    throw new NotFoundError(`workforce ${input.workforceId} is not registered in program ${input.programId}`);
  }
  const contract = parseContract({
    contractId: contractIdOf(input.workforceId, input.protocolId),
    workforceId: input.workforceId,
    protocolId: input.protocolId,
    version: 1,
    validFrom: input.validFrom,
    ...(input.validTo ? { validTo: input.validTo } : {}),
    terms: input.terms,
    origin: 'registered',
  });
  const existing = (await listContracts(deps, input.programId)).filter((c) => c.contractId === contract.contractId);
  if (existing.length > 0) {
    const v1 = existing[0];
    if (existing.length === 1 && sameVersion(v1, contract)) return { contract: v1, created: false };
    throw new ConflictError(`contract ${contract.contractId} already has version ${existing.at(-1)?.version}: amend it to change its terms`);
  }
  await appendVersion(deps, input.programId, contract, input.actor, input.reason ?? 'contract registered');
  return { contract, created: true };
}

/**
 * A new version of a contract: the latest version's terms with `terms`
 * applied, valid from `validFrom` (work dispatched before it stays under the
 * earlier version). Refused when nothing changes or when another amendment
 * took this version number first (409: read and retry).
 */
export async function amendContract(
  deps: Deps,
  input: { programId: string; contractId: string; validFrom: string; validTo?: string | null; terms: Partial<ContractTermsInput>; actor: string; reason: string },
): Promise<Contract> {
  const versions = await showContract(deps, input.programId, input.contractId);
  const latest = versions[versions.length - 1];
  const validTo = input.validTo === null ? undefined : (input.validTo ?? latest.validTo);
  const next = parseContract({
    ...latest,
    version: latest.version + 1,
    validFrom: input.validFrom,
    ...(validTo ? { validTo } : {}),
    terms: { ...latest.terms, ...input.terms, lateCredit: { ...latest.terms.lateCredit, ...input.terms.lateCredit } },
    origin: 'amended',
  });
  if (!validTo) delete next.validTo;
  const changed = changedTerms(latest, next);
  if (changed.length === 0) throw new InvalidInputError(`the amendment changes nothing in ${contractRef(latest)}`);
  const r = await appendVersion(deps, input.programId, next, input.actor, input.reason, { previousVersion: latest.version, changed });
  if (r === 'duplicate') {
    const stored = (await listContracts(deps, input.programId)).find((c) => c.contractId === next.contractId && c.version === next.version);
    if (!stored || !sameVersion(stored, next)) throw new ConflictError(`${contractRef(next)} was written by another amendment first: read the contract and amend again`);
  }
  return next;
}

/** A batch's money under its contract: the line settlement records (and a statement recomputes). */
export interface BatchSettlement {
  contract: Contract;
  line: SettlementLine;
  facts: BatchFacts;
}

/**
 * Settles a batch's decision under the contract in force at its dispatch,
 * from the ledger's evidence: the batch's `batch.dispatched` (time, cases),
 * its accepted upload's `submission.accepted` (delivery time) and the pair's
 * contract versions — each read by its deterministic event id, never the whole
 * ledger. Only a contract that prices re-dos apart reads the program's ledger,
 * to count which of the batch's cases an earlier batch did not deliver. A
 * workforce and protocol with no contract get version 1 from the workforce's
 * terms first (the migration; recorded once).
 */
export async function settleUnderContract(deps: Deps, batch: BatchRecord, outcome: 'accepted' | 'rejected' | 'pending'): Promise<BatchSettlement> {
  const dispatched = await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:dispatched`);
  const facts: BatchFacts = {
    ...factsWithoutDispatch(batch),
    ...(dispatched?.type === 'batch.dispatched' ? { dispatchedAt: dispatched.at, caseIds: dispatched.data.caseIds } : {}),
  };
  const delivered = batch.acceptedUploadId
    ? await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:submission:${batch.acceptedUploadId}:accepted`)
    : undefined;
  if (delivered) facts.deliveredAt = delivered.at;
  const versions = await pairVersions(deps, batch.programId, contractIdOf(batch.workforceId, facts.protocolId));
  const contract = contractForBatch(versions, facts)?.contract ?? (await migrateTerms(deps, batch, facts));
  const t = contract.terms;
  if (t.pricePerReworkCents !== t.pricePerAcceptedCaseCents && facts.caseIds.length > 0) {
    facts.reworkItems = batchFactsFromLedger(await deps.repo.listLedger(batch.programId)).get(batch.batchId)?.reworkItems ?? 0;
  }
  const line = settlementLine(contract, { outcome, items: facts.items, reworkItems: facts.reworkItems }, latenessOf(t, facts.dispatchedAt, facts.deliveredAt ?? deps.clock.now().toISOString()));
  return { contract, line, facts };
}

/** A contract's versions, oldest first, read one event id at a time until one is missing. */
async function pairVersions(deps: Deps, programId: string, contractId: string): Promise<Contract[]> {
  const out: Contract[] = [];
  for (let v = 1; ; v++) {
    const e = await deps.repo.getLedgerEvent(programId, eventIdOf(programId, contractId, v));
    if (!e) return out;
    out.push(...contractsFromLedger([e]));
  }
}

/** A batch as its record states it, before the ledger's evidence is read. */
function factsWithoutDispatch(batch: BatchRecord): BatchFacts {
  return {
    batchId: batch.batchId,
    workforceId: batch.workforceId,
    protocol: batch.protocol,
    protocolId: batch.protocol.split('@')[0],
    dispatchedAt: batch.createdAt,
    items: batch.itemCount,
    gold: batch.goldCount,
    caseIds: [],
    reworkItems: 0,
    requeued: 0,
  };
}

async function migrateTerms(deps: Deps, batch: BatchRecord, facts: BatchFacts): Promise<Contract> {
  const workforce = (await deps.repo.listWorkforces(batch.programId)).find((w) => w.workforceId === batch.workforceId);
  if (!workforce) throw new NotFoundError(`workforce ${batch.workforceId} of batch ${batch.batchId} not found`);
  const protocol = await findProtocol(deps, batch.protocol);
  const created = await deps.repo.getLedgerEvent(batch.programId, `${batch.programId}:workforce:${batch.workforceId}:created`);
  const validFrom = [created?.at, facts.dispatchedAt].filter((x): x is string => Boolean(x)).sort()[0];
  const contract = contractFromWorkforceTerms({
    workforceId: batch.workforceId,
    protocolId: facts.protocolId,
    pricePerCase: workforce.pricePerCase,
    slaHours: workforce.slaHours,
    rejectionPenalty: protocol?.rejectionPenalty ?? 1,
    validFrom,
  });
  const r = await appendVersion(deps, batch.programId, contract, 'migration', 'existing workforce terms become version 1 of a contract (what settlement paid before contracts)');
  if (r === 'duplicate') {
    // Another settlement migrated the pair first: use what it recorded.
    const stored = (await pairVersions(deps, batch.programId, contract.contractId))[0];
    if (stored) return stored;
  }
  return contract;
}

async function appendVersion(
  deps: Deps,
  programId: string,
  c: Contract,
  actor: string,
  reason: string,
  amended?: { previousVersion: number; changed: string[] },
): Promise<'appended' | 'duplicate'> {
  const { origin, ...version } = c;
  const base = { eventId: eventIdOf(programId, c.contractId, c.version), programId, actor, protocol: c.protocolId, subject: c.contractId, reason };
  if (amended) return record(deps, { ...base, type: 'contract.amended', data: { ...version, ...amended } });
  return record(deps, { ...base, type: 'contract.registered', data: { ...version, origin: origin === 'workforce-terms' ? 'workforce-terms' : 'registered' } });
}

function parseContract(input: unknown): Contract {
  const r = ContractSchema.safeParse(input);
  if (!r.success) {
    throw new InvalidInputError(`invalid contract: ${r.error.issues.map((i) => `${i.path.join('.') || '(contract)'}: ${i.message}`).join('; ')}`);
  }
  return { ...r.data, terms: ContractTerms.parse(r.data.terms) };
}

function sameVersion(a: Contract, b: Contract): boolean {
  const strip = ({ origin: _o, ...rest }: Contract) => rest;
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}
