/**
 * Protocol and case fixtures shared by the protocol-document tests (parsing,
 * diff, dry run): a three-rule chest X-ray protocol and cases routed by it.
 */
import { Case, type CaseInput } from '../../../functions/domain/model/case.js';
import { ProtocolVersion, type ProtocolVersionInput, type RoutingRule } from '../../../functions/domain/model/protocol.js';

export const BASE: ProtocolVersionInput = {
  protocolId: 'chest-xray',
  version: 1,
  title: 'Chest X-ray triage',
  task: { type: 'classification', classes: ['normal', 'abnormal'] },
  thresholds: { goldAccuracy: 0.85 },
  goldRate: 0.1,
  batchSize: 60,
  slaHours: 48,
  routing: {
    rules: [
      {
        id: 'sensitive-stays-inside',
        when: [{ attribute: 'flags.sensitive', op: 'isTrue' }],
        route: { pool: 'internal', qualifications: ['radiologist'] },
        reason: 'sensitive studies stay with our radiologists',
      },
      {
        id: 'paediatric-stays-inside',
        when: [{ attribute: 'subgroup.ageBand', op: 'equals', value: '0-17' }],
        route: { pool: 'internal', qualifications: ['radiologist'] },
        reason: 'paediatric films need a paediatric read',
      },
      {
        id: 'adult-cxr-to-vendors',
        when: [
          { attribute: 'modality', op: 'in', values: ['CR', 'DX'] },
          { attribute: 'bodyPart', op: 'equals', value: 'CHEST' },
        ],
        route: { pool: 'vendor', qualifications: ['cxr'] },
        reason: 'routine adult chest films may be outsourced',
      },
    ],
    default: { pool: 'internal' },
  },
  attributes: { subgroup: { ageBand: ['0-17', '18-64', '65+'] } },
  createdBy: 'pm:alice',
  createdAt: '2025-03-01T09:00:00Z',
};

export const makeProtocol = (overrides: Partial<ProtocolVersionInput> = {}): ProtocolVersion => ProtocolVersion.parse({ ...BASE, ...overrides });

export const rulesOf = (p: ProtocolVersion): RoutingRule[] => p.routing.rules;
export const withRules = (p: ProtocolVersion, rules: RoutingRule[]): ProtocolVersion => ({ ...p, routing: { ...p.routing, rules } });

export const makeCase = (caseId: string, overrides: Partial<CaseInput> = {}): Case =>
  Case.parse({ caseId, imageKey: `images/${caseId}.dcm`, modality: 'CR', bodyPart: 'CHEST', site: 'site-a', deidentified: true, ...overrides });
