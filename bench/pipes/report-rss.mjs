// Preloaded into the child running `cim ingest pipes` (node --import): reports its peak RSS on exit, on stderr.
process.on("exit", () => {
  const ru = process.resourceUsage();
  process.stderr.write(
    `\nCIM_BENCH_USAGE ${JSON.stringify({ maxRssBytes: ru.maxRSS * 1024, userSeconds: ru.userCPUTime / 1e6, systemSeconds: ru.systemCPUTime / 1e6 })}\n`,
  );
});
