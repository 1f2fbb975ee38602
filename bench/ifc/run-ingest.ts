import { ingestIfc } from "../../ingest/ifc/ingest-ifc.ts";

// Our full ingest of one file, in its own process so that its peak RSS is its own.
const [input, out, origin] = process.argv.slice(2);
const o = origin?.split(",").map(Number);
const started = performance.now();
const summary = await ingestIfc({
  input,
  out,
  origin: o ? { lon: o[0], lat: o[1], height: o[2] ?? 0 } : undefined,
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ seconds, summary, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
