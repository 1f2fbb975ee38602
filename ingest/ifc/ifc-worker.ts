import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import * as WebIFC from "web-ifc";
import { IfcModelError, IfcModelReader } from "./ifc-model-reader.ts";
import type { ElementData, ModelInfo, WorkerReply, WorkerRequest } from "./ifc-types.ts";

// Runs web-ifc away from the main thread so that the ingest can stop an element that never finishes.
const port = parentPort!;
const api = new WebIFC.IfcAPI();
let reader: IfcModelReader | undefined;
let info: ModelInfo | undefined;
// Fault injection for the watchdog's test: an element that never finishes, as a pathological one would.
const stallOn = Number(process.env.CIM_TEST_STALL_ELEMENT ?? Number.NaN);

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

port.on("message", async (req: WorkerRequest) => {
  try {
    if (req.cmd === "open") {
      await api.Init();
      api.SetLogLevel(WebIFC.LogLevel.LOG_LEVEL_OFF);
      const model = api.OpenModel(new Uint8Array(readFileSync(req.path)), { COORDINATE_TO_ORIGIN: false });
      reader = new IfcModelReader(api, model);
      info = reader.readInfo(req.includeSpaces);
      reply({ type: "opened", info });
    } else {
      for (let i = req.from; i < info!.productIds.length; i += req.stride) {
        reply({ type: "begin", index: i });
        if (info!.productIds[i] === stallOn) for (;;);
        const element: ElementData | null = reader!.extract(info!.productIds[i]);
        const transfer = element
          ? element.parts.flatMap(
              (p) => [p.positions.buffer, p.normals.buffer, p.indices.buffer] as ArrayBuffer[],
            )
          : [];
        reply({ type: "element", index: i, element }, transfer);
      }
      reply({ type: "done" });
    }
  } catch (err) {
    reply({
      type: "error",
      message: (err as Error).message,
      entityId: err instanceof IfcModelError ? err.entityId : undefined,
    });
  }
});
