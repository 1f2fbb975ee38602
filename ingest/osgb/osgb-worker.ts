import { parentPort, workerData } from "node:worker_threads";
import { resolveSourceCrs } from "../crs/source-crs.ts";
import { convertOsgbFile, type TileContext, type TileJob } from "./osgb-tile.ts";
import type { OsgbWorkerData, OsgbWorkerReply } from "./osgb-worker-types.ts";

// Converts .osgb files off the main thread: each job reads one file and writes its GLB, replying with a small record.
const data = workerData as OsgbWorkerData;
const ctx: TileContext = {
  crs: resolveSourceCrs(data.crsSpec, data.origin),
  srsOrigin: data.srsOrigin,
  outDir: data.outDir,
};
const port = parentPort!;

port.on("message", async (job: TileJob) => {
  let reply: OsgbWorkerReply;
  try {
    reply = { type: "done", record: await convertOsgbFile(job, ctx) };
  } catch (e) {
    const err = e as Error & { offset?: number };
    reply = { type: "error", id: job.id, file: job.file, message: err.message, name: err.name };
  }
  port.postMessage(reply);
});
