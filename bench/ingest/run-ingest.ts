import { ingestBuildings } from "../../ingest/buildings/ingest-buildings.ts";

// Child process of the footprint benchmark, so that its peak RSS is measured on its own.
const [input, out] = process.argv.slice(2);
const summary = await ingestBuildings({ input, out });
process.stdout.write(`${JSON.stringify({ summary, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
