import { useCaseHandler } from './adapters/handler.js';
import { expireAdjudication } from './use-cases/adjudication.js';
import { AdjudicationRef } from './use-cases/events.js';

export const makeHandler = useCaseHandler(AdjudicationRef, expireAdjudication);
export const handler = makeHandler();
