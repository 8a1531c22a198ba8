/** Well-formed path parameters for calling any route of the table in tests (they name nothing that exists unless seeded). */
export const SAMPLE_PARAMS: Record<string, string> = {
  batchId: 'batch-0001',
  uploadId: 'up12345678',
  adjudicationId: 'batch-0001-adj',
  protocolId: 'chest-xray',
  version: '1',
  programId: 'prog-1',
  workforceId: 'vendor-c',
  round: '1',
  caseId: 'case-00001',
  ingestId: 'ingest0000000001',
};

/** A route's OpenAPI path with its parameters filled in. */
export const concretePath = (path: string): string => path.replace(/\{(\w+)\}/g, (_, name: string) => SAMPLE_PARAMS[name] ?? 'x');
