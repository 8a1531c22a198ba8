import { useCaseHandler } from './adapters/handler.js';
import { DispatchRoundEvent } from './use-cases/events.js';
import { planRoundChunks } from './use-cases/plan-round.js';

export const makeHandler = useCaseHandler(DispatchRoundEvent, (deps, input) => planRoundChunks(deps, input));
export const handler = makeHandler();
