/**
 * Shared by the node server children: print the ready line, then shut down cleanly on
 * SIGTERM/SIGINT or when the parent goes away (stdin closes). A clean exit lets
 * `--cpu-prof` write its profile.
 */
export function runUntilParentStops(url: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 3000).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  process.stdout.write(`BENCH_READY ${url}\n`);
}
