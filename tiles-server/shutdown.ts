import type { Server } from "node:http";

/** In-flight requests get this long to finish before their connections are cut. */
const DRAIN_TIMEOUT_MS = 10_000;

/** Stops accepting connections, lets in-flight requests finish, then resolves. */
export function closeHttpServer(server: Server, drainTimeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Keep-alive sockets with no request in progress would otherwise hold close() open.
    server.closeIdleConnections();
  });
}

/**
 * Runs `close` on the first SIGINT/SIGTERM and exits when it finishes; a second signal exits
 * at once. Returns a function that removes the handlers.
 */
export function closeOnSignals(
  close: () => Promise<void>,
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): () => void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      log(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    log(`${signal}: shutting down (finishing in-flight requests)`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
