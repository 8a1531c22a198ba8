/**
 * The demo's very last step: the QA lead exports the regulatory dossier of the
 * release the demo just made, through the API (as `goldline release dossier`
 * does), and the demo prints where it is and its SHA-256s.
 */
import type { DossierExport } from '../../../functions/use-cases/dossier.js';
import { ApiClient } from '../../cli/client.js';
import type { ApiServer } from '../api-server.js';

/** Exports the dossier of `releaseId` as the QA lead and logs its keys and SHA-256s. */
export async function exportDemoDossier(
  api: ApiServer,
  target: { programId: string; releaseId: string },
  log?: (line: string) => void,
): Promise<DossierExport> {
  const client = new ApiClient(api.url, await api.issuer.issueToken('qa'), { fetch });
  const made = await client.call<DossierExport>(
    'POST',
    `/v1/programs/${encodeURIComponent(target.programId)}/releases/${encodeURIComponent(target.releaseId)}/dossier`,
  );
  log?.(formatDemoDossier(made));
  return made;
}

/** The lines the demo prints for the dossier. */
export function formatDemoDossier(d: DossierExport): string {
  return [
    '━━ Dossier ━━',
    `Dossier of release ${d.releaseId} (${d.protocol}) in the exports bucket:`,
    `  ${d.json.key} · SHA-256 ${d.json.sha256}`,
    `  ${d.html.key} · SHA-256 ${d.html.sha256} (printable; \`goldline release dossier ${d.releaseId}\` writes both locally)`,
    `  ledger: ${d.ledger.verified ? 'chain verified' : 'chain does NOT verify'} · release anchor ${d.ledger.anchorHolds ? 'holds' : 'does NOT hold'}`,
  ].join('\n');
}
