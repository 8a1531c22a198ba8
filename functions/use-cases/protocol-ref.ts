import type { ProtocolVersion } from '../domain/index.js';
import type { Deps } from './ports.js';

/** The protocol version named by `id@version` (as batches, labels and events record it). */
export function findProtocol(deps: Deps, ref: string): Promise<ProtocolVersion | undefined> {
  const [protocolId, version] = ref.split('@');
  return deps.repo.getProtocolVersion(protocolId, Number(version));
}
