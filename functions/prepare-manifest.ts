import { useCaseHandler } from './adapters/handler.js';
import { BatchRef } from './use-cases/events.js';
import { prepareManifest } from './use-cases/prepare-manifest.js';

export const makeHandler = useCaseHandler(BatchRef, prepareManifest);
export const handler = makeHandler();
