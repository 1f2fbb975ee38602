import { ingestIfc } from "../../ingest/ifc/ingest-ifc.ts";
import "../../ingest/ifc/in-process-extraction.ts";

// The runtime's fixed cost: peak RSS of a process that loads web-ifc and our modules and ingests a one-wall model
// (so web-ifc's geometry kernel and our tile writer have done their first allocations, as for any file). Peak RSS
// above this is what a file costs.
const [file, out] = process.argv.slice(2);
const summary = await ingestIfc({ input: file, out, origin: { lon: 118.29, lat: 33.96, height: 0 } });
process.stdout.write(
  `${JSON.stringify({ products: summary.products, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
