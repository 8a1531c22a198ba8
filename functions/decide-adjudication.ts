/** An internal expert's decision (from the expert tool or API): resumes the waiting lifecycle. */
import { useCaseHandler } from './adapters/handler.js';
import { AdjudicationDecision, decideAdjudication } from './use-cases/adjudication.js';

export const makeHandler = useCaseHandler(AdjudicationDecision, decideAdjudication);
export const handler = makeHandler();
