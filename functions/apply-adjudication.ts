import { useCaseHandler } from './adapters/handler.js';
import { applyAdjudication } from './use-cases/adjudication.js';
import { AdjudicationRef } from './use-cases/events.js';

export const makeHandler = useCaseHandler(AdjudicationRef, applyAdjudication);
export const handler = makeHandler();
