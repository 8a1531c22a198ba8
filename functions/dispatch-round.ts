import { useCaseHandler } from './adapters/handler.js';
import { DispatchRoundEvent } from './use-cases/events.js';
import { dispatchRoundViaWorkflow } from './use-cases/round-workflow.js';

export const makeHandler = useCaseHandler(DispatchRoundEvent, (deps, input) => dispatchRoundViaWorkflow(deps, input));
export const handler = makeHandler();
