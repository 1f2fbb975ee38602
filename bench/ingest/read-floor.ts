import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

// Reference run: read and JSON.parse every line, the least any GeoJSONSeq ingest must do.
const [input] = process.argv.slice(2);
const started = performance.now();
let n = 0;
for await (const line of createInterface({ input: createReadStream(input, { highWaterMark: 1 << 20 }) })) {
  if (line) {
    JSON.parse(line);
    n++;
  }
}
process.stdout.write(
  `${JSON.stringify({ features: n, seconds: (performance.now() - started) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
