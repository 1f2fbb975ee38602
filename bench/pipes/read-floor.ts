import { readFile } from "node:fs/promises";
import { parseCsv } from "../../ingest/pipes/cjj/csv.ts";

// Reference run of the pipes benchmark: read and parse the two CJJ tables, the least any ingest of them must do.
const files = process.argv.slice(2);
const started = performance.now();
let rows = 0;
for (const file of files) rows += parseCsv((await readFile(file, "utf8")).replace(/^\uFEFF/, "")).length;
process.stdout.write(
  `${JSON.stringify({ rows, seconds: (performance.now() - started) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuSeconds: process.cpuUsage().user / 1e6 })}\n`,
);
