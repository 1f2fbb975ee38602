import vm from "node:vm";

/**
 * Runs synchronous code (JavaScript or a WebAssembly call under it) on this thread with a time limit. Node's vm
 * timeout is the only way to stop a web-ifc call that never returns without a worker thread: its watchdog thread
 * terminates V8 execution, and V8 checks for termination in WebAssembly loops too. The code that was stopped may
 * have left the WebAssembly instance in any state, so the caller must not use that instance again.
 *
 * Each limited call starts a watchdog thread (about 0.1 ms), so callers run many short steps per call.
 */
const TASK = Symbol.for("cim-twin.time-limited-task");
const runner = new vm.Script(`globalThis[Symbol.for("cim-twin.time-limited-task")]()`, {
  filename: "time-limited-task",
});

export class TimeLimitExceeded extends Error {}

export function runWithTimeLimit<T>(task: () => T, ms: number): T {
  const g = globalThis as unknown as Record<symbol, (() => T) | undefined>;
  g[TASK] = task;
  try {
    return runner.runInThisContext({ timeout: Math.max(1, Math.ceil(ms)) }) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
      throw new TimeLimitExceeded(`stopped after ${ms} ms`);
    }
    throw err;
  } finally {
    g[TASK] = undefined;
  }
}
