import { useCaseHandler } from './adapters/handler.js';
import { dispatchRoundChunk } from './use-cases/dispatch-chunk.js';
import { RoundChunkEvent } from './use-cases/events.js';

export const makeHandler = useCaseHandler(RoundChunkEvent, dispatchRoundChunk);
export const handler = makeHandler();
