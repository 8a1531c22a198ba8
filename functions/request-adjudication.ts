import { useCaseHandler } from './adapters/handler.js';
import { requestAdjudication } from './use-cases/adjudication.js';
import { RequestAdjudicationEvent } from './use-cases/events.js';

export const makeHandler = useCaseHandler(RequestAdjudicationEvent, requestAdjudication);
export const handler = makeHandler();
