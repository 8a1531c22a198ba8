/**
 * Counts AWS requests by service and operation, as an SDK middleware: cost per
 * case is a product figure, and requests are what AWS bills. Attach it to any
 * SDK v3 client (production or local); it does not change a request.
 */
export interface RequestCount {
  service: string;
  operation: string;
  count: number;
}

type Next = (args: unknown) => Promise<unknown>;
type Middleware = (next: Next, context: Record<string, unknown>) => Next;

/** Any SDK v3 client (typed loosely: each client's stack has its own input types). */
interface MiddlewareClient {
  middlewareStack: { add: (middleware: never, options: never) => void };
}

export class RequestCounter {
  private readonly counts = new Map<string, number>();

  /** Adds the counting middleware to a client; returns the client. */
  attach<C extends MiddlewareClient>(client: C, service: string): C {
    const middleware: Middleware = (next, context) => async (args) => {
      const op = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      this.add(service, op);
      return next(args);
    };
    client.middlewareStack.add(
      middleware as never,
      { step: 'initialize', name: 'goldlineRequestCounter', override: true } as never,
    );
    return client;
  }

  /** Counts a request made outside an SDK client (e.g. a presigned PUT or GET over HTTP). */
  add(service: string, operation: string, n = 1): void {
    const key = `${service}\u0000${operation}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  snapshot(): RequestCount[] {
    return [...this.counts.entries()]
      .map(([k, count]) => {
        const [service, operation] = k.split('\u0000');
        return { service, operation, count };
      })
      .sort((a, b) => a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation));
  }

  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  reset(): void {
    this.counts.clear();
  }
}
