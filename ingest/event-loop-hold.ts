/**
 * Runs `work` with the event loop held open by a referenced timer.
 *
 * Why: web-ifc's Init finishes through a V8 platform task, not a libuv handle. With no referenced handle, Node's
 * loop ends its turn and drains the platform (NodePlatform::DrainTasks), and the ingest then continues inside that
 * drain: its first await on file I/O waits until every V8 background job (concurrent compilation, GC) is done before
 * libuv may deliver the result. Measured on 2 cores (strace -k, bench/ifc): 100-250 ms lost per IFC ingest.
 * With a handle referenced, the loop keeps turning and I/O completes as soon as it is done.
 */
export async function withEventLoopHeld<T>(work: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 2 ** 31 - 1);
  try {
    return await work();
  } finally {
    clearInterval(hold);
  }
}
