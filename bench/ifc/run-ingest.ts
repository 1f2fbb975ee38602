import { ingestIfc } from "../../ingest/ifc/ingest-ifc.ts";
// Loaded before the clock starts, as the reference loads web-ifc before its clock: ingestIfc imports it lazily.
import "../../ingest/ifc/in-process-extraction.ts";

// Our full ingest of one file, in its own process so that its peak RSS is its own.
const [input, out, origin] = process.argv.slice(2);
const o = origin?.split(",").map(Number);
const started = performance.now();
const cpuStarted = process.cpuUsage();
const summary = await ingestIfc({
  input,
  out,
  origin: o ? { lon: o[0], lat: o[1], height: o[2] ?? 0 } : undefined,
});
const seconds = (performance.now() - started) / 1000;
// CPU time of all the process's threads: on a shared machine it tells the work done apart from the waiting.
const cpu = process.cpuUsage(cpuStarted);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(
  `${JSON.stringify({ seconds, cpuSeconds, summary, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
