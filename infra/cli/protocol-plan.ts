/**
 * The acceptance plan of a protocol version as the CLI prints it (`goldline
 * protocol plan`, `pm protocol plan`, both dry runs): the rule, the single plan's
 * n and c, the SPRT's boundaries and truncation, the exact α/β achieved, the OC
 * table for true accuracy 0.50…1.00 and the gold pool a planned volume needs.
 * The figures are the domain's (functions/domain/acceptance-protocol.ts).
 */
import { AcceptancePlanError, type PlannedVolume } from '../../functions/domain/acceptance/index.js';
import { formatProtocolPlan } from '../../functions/domain/acceptance-protocol.js';
import { type ProtocolVersion, protocolRef } from '../../functions/domain/model/protocol.js';

export interface PlanVolumeOptions {
  /** Planned vendor batches (cases = batches × batchSize). */
  batches?: number;
  /** Planned real cases for vendors. */
  volume?: number;
  /** Vendors sharing the volume (default 1: the busiest-vendor worst case). */
  vendors?: number;
}

/** The planned volume from `--volume` (cases) or `--batches`, or none. */
export function plannedVolume(p: ProtocolVersion, o: PlanVolumeOptions): PlannedVolume | undefined {
  if (o.volume !== undefined && o.batches !== undefined) throw new PlanOptionError('give --volume (cases) or --batches, not both');
  const cases = o.volume ?? (o.batches !== undefined ? o.batches * p.batchSize : undefined);
  if (cases === undefined) return undefined;
  return { cases, batchSize: p.batchSize, ...(o.vendors !== undefined ? { vendors: o.vendors } : {}) };
}

/** A bad combination of plan options (usage). */
export class PlanOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanOptionError';
  }
}

/**
 * The printed plan, headed by the protocol; a spec no plan can meet becomes one
 * line saying why (thrown as AcceptancePlanError for the caller to report).
 */
export function protocolPlanLines(p: ProtocolVersion, o: PlanVolumeOptions = {}): string[] {
  const volume = plannedVolume(p, o);
  const head = `Acceptance plan of ${protocolRef(p)}: batches of ${p.batchSize} cases, goldRate ${p.goldRate}, gold reuse cap ${p.goldReuseCap}` +
    (volume ? `; planned volume ${volume.cases} cases${volume.vendors ? ` over ${volume.vendors} vendors` : ''}` : '');
  return [head, ...formatProtocolPlan(p, volume)];
}

export { AcceptancePlanError };
