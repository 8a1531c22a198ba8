/**
 * Every route of the API and the roles that may call it: the authorization
 * matrix the tests check the application against (test/unit/api/authorization-matrix.test.ts).
 * Written apart from the routes on purpose: a route the application serves
 * without a row here, or a row the application does not serve, fails that test.
 */
import type { Role } from './auth.js';

export interface RouteRow {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path syntax (`{param}`). */
  path: string;
  /** Roles that may call it; `public` needs no token; `any` is any signed-in role. */
  roles: readonly Role[] | 'public' | 'any';
}

const WORK: Role[] = ['vendor', 'expert'];
const PM: Role[] = ['pm'];
const PM_QA: Role[] = ['pm', 'qa'];
const EXPERT: Role[] = ['expert'];
const VENDOR: Role[] = ['vendor'];

export const ROUTE_TABLE: readonly RouteRow[] = [
  { method: 'get', path: '/v1/openapi.json', roles: 'public' },
  { method: 'get', path: '/v1/me', roles: 'any' },
  // vendor and expert work
  { method: 'get', path: '/v1/batches', roles: WORK },
  { method: 'get', path: '/v1/batches/{batchId}', roles: WORK },
  { method: 'post', path: '/v1/batches/{batchId}/image-urls', roles: WORK },
  { method: 'post', path: '/v1/batches/{batchId}/uploads', roles: WORK },
  { method: 'get', path: '/v1/batches/{batchId}/uploads/{uploadId}', roles: WORK },
  // vendor disputes (an expert decides them as adjudications)
  { method: 'post', path: '/v1/batches/{batchId}/disputes', roles: VENDOR },
  { method: 'get', path: '/v1/disputes', roles: VENDOR },
  { method: 'get', path: '/v1/disputes/{disputeId}', roles: VENDOR },
  { method: 'get', path: '/v1/programs/{programId}/disputes', roles: PM_QA },
  // expert adjudication
  { method: 'get', path: '/v1/adjudications', roles: EXPERT },
  { method: 'get', path: '/v1/adjudications/{adjudicationId}', roles: EXPERT },
  { method: 'post', path: '/v1/adjudications/{adjudicationId}/decision', roles: EXPERT },
  // program manager
  { method: 'post', path: '/v1/protocols', roles: PM },
  { method: 'get', path: '/v1/protocols/{protocolId}/versions/{version}', roles: PM_QA },
  { method: 'get', path: '/v1/protocols/{protocolId}/diff', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/dry-run', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/workforces', roles: PM_QA },
  { method: 'put', path: '/v1/programs/{programId}/workforces/{workforceId}', roles: PM },
  { method: 'patch', path: '/v1/programs/{programId}/workforces/{workforceId}', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/share-proposals', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/rounds/{round}/shares/refuse', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/cases', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/cases/manifest', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/cases/manifest/{ingestId}/complete', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/assignments', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/round-preview', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/rounds', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/rounds/{round}', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/rounds/{round}/shares/approve', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/quarantine', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/quarantine/{caseId}/release', roles: PM },
  // qualification exams and manual control (issue 13)
  { method: 'post', path: '/v1/programs/{programId}/exams', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/qualifications', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/qualifications/waivers', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/qualifications/revocations', roles: PM },
  { method: 'put', path: '/v1/programs/{programId}/workforces/{workforceId}/share-cap', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/moves', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/held-batches/decide', roles: PM },
  // QA (PMs read them too)
  { method: 'get', path: '/v1/programs/{programId}/batches', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/scorecards', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/ledger', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/ledger/verify', roles: PM_QA },
  { method: 'get', path: '/v1/cases/{caseId}/trace', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/exports/scorecards', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/exports/labels', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/quality', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/exports/{what}', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/rounds/{round}/report.html', roles: PM_QA },
  // dataset releases (QA and PMs create and read them)
  { method: 'post', path: '/v1/programs/{programId}/releases', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/releases', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/releases/{releaseId}', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/releases/{releaseId}/labels', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/releases/{releaseId}/diff', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/releases/{releaseId}/verify', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/releases/{releaseId}/dossier', roles: PM_QA },
  { method: 'get', path: '/v1/programs/{programId}/releases/{releaseId}/dossier', roles: PM_QA },
  // contracts (PMs write; PMs and QA read) and statements (PMs, any workforce; a vendor its own under /v1/statements)
  { method: 'get', path: '/v1/programs/{programId}/contracts', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/contracts', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/contracts/{contractId}', roles: PM_QA },
  { method: 'post', path: '/v1/programs/{programId}/contracts/{contractId}/amendments', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/workforces/{workforceId}/statement', roles: PM },
  { method: 'post', path: '/v1/programs/{programId}/workforces/{workforceId}/statements', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/workforces/{workforceId}/statements', roles: PM },
  { method: 'get', path: '/v1/programs/{programId}/workforces/{workforceId}/statements/issued', roles: PM },
  { method: 'get', path: '/v1/statements', roles: VENDOR },
  { method: 'get', path: '/v1/statements/issued', roles: VENDOR },
];
