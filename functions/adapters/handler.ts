/**
 * Thin handlers: parse the event with zod, call one use case, return its answer.
 * `makeHandler(deps)` lets tests and the embedded stack inject clients; the
 * exported `handler` uses the Lambda environment.
 */
import type { z } from 'zod';
import type { Deps } from '../use-cases/ports.js';
import { defaultDeps } from './deps.js';

export type Handler<O> = (event: unknown) => Promise<O>;
export type HandlerFactory<O> = (deps?: () => Deps) => Handler<O>;

export function useCaseHandler<S extends z.ZodType, O>(
  schema: S,
  useCase: (deps: Deps, input: z.output<S>) => Promise<O>,
): HandlerFactory<O> {
  return (deps = defaultDeps) =>
    async (event) =>
      useCase(deps(), schema.parse(event));
}
