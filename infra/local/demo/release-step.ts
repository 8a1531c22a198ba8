/**
 * The demo's last step: the QA lead releases the demo protocol's accepted labels
 * through the API (as `goldline release create` does) and verifies the release
 * (as `goldline release verify` does), printing what a model team would cite.
 */
import type { ReleaseSummary, ReleaseVerdict } from '../../../functions/use-cases/releases.js';
import { ApiClient, ApiProblemError } from '../../cli/client.js';
import type { ApiServer } from '../api-server.js';

export interface DemoRelease {
  release: ReleaseSummary;
  /** False when a resumed demo found these labels released already. */
  created: boolean;
  verify: ReleaseVerdict;
}

/**
 * Creates (or finds) the release of `protocolId@version` in `programId` and verifies it, as the QA lead.
 * Undefined, said in the log, when no label was accepted yet (a run whose every batch was rejected).
 */
export async function releaseDemoLabels(
  api: ApiServer,
  target: { programId: string; protocolId: string; version: number },
  log?: (line: string) => void,
): Promise<DemoRelease | undefined> {
  const client = new ApiClient(api.url, await api.issuer.issueToken('qa'), { fetch });
  const base = `/v1/programs/${encodeURIComponent(target.programId)}/releases`;
  let made: { release: ReleaseSummary; created: boolean };
  try {
    made = await client.call('POST', base, {
      body: { protocolId: target.protocolId, version: target.version, note: 'demo: the accepted labels after the last round' },
    });
  } catch (e) {
    if (!(e instanceof ApiProblemError && e.status === 409)) throw e;
    log?.(`━━ Release ━━\nNothing to release yet: ${e.problem.detail ?? e.message}`);
    return undefined;
  }
  const { release, created } = made;
  const verify = await client.call<ReleaseVerdict>('GET', `${base}/${release.releaseId}/verify`);
  log?.(formatDemoRelease({ release, created, verify }));
  return { release, created, verify };
}

/** The lines the demo prints for its release. */
export function formatDemoRelease(r: DemoRelease): string {
  const v = r.verify;
  return [
    '━━ Release ━━',
    `${r.created ? 'Released' : 'Already released'} ${r.release.protocolId}@${r.release.version}: ${r.release.releaseId} · ${r.release.labels} accepted labels · by ${r.release.createdBy}`,
    `  manifest ${r.release.manifestKey} · SHA-256 ${r.release.manifestSha256}`,
    `  ledger anchor #${r.release.ledgerHead.seq} ${r.release.ledgerHead.hash}`,
    v.ok
      ? `Release verify: ok (manifest SHA-256, labels hash, ${v.objectsChecked} label objects re-read by version and re-hashed, ledger anchor holds)`
      : `Release verify: FAILED — ${v.problems.map((p) => `${p.check}${p.caseId ? ` ${p.caseId}` : ''}: ${p.detail}`).join('; ')}`,
  ].join('\n');
}
