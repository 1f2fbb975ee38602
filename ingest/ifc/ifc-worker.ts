import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { resolveGeoreference } from "./georeference.ts";
import { IfcModelError, IfcModelReader } from "./ifc-model-reader.ts";
import type { ModelInfo, PlacedElementData, WorkerReply, WorkerRequest } from "./ifc-types.ts";
import { placeElement } from "./place-element.ts";
import { StepEntities } from "./step-entities.ts";
import { precheckStep } from "./step-precheck.ts";
import { loadWebIfc, saveWebIfcCodeCache } from "./web-ifc-runtime.ts";

const WebIFC = loadWebIfc();

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
      const bytes = new Uint8Array(readFileSync(req.path));
      const statements = precheckStep(bytes);
      const model = api.OpenModel(bytes, { COORDINATE_TO_ORIGIN: false });
      reader = new IfcModelReader(api, model, new StepEntities(bytes, statements.starts, statements.count));
      info = reader.readInfo(req.includeSpaces);
      reply({ type: "opened", info });
    } else {
      const geo = resolveGeoreference(info!, req.georeference);
      const next = new Int32Array(req.next);
      for (let i = Atomics.add(next, 0, 1); i < info!.productIds.length; i = Atomics.add(next, 0, 1)) {
        reply({ type: "begin", index: i });
        if (info!.productIds[i] === stallOn) for (;;);
        const meshed = reader!.extract(info!.productIds[i]);
        const element: PlacedElementData | null = meshed ? placeElement(meshed, geo) : null;
        const transfer = element
          ? element.parts.flatMap((p) => [p.ecef.buffer, p.normals.buffer, p.indices.buffer] as ArrayBuffer[])
          : [];
        reply({ type: "element", index: i, element }, transfer);
      }
      reply({ type: "done" });
      saveWebIfcCodeCache();
    }
  } catch (err) {
    reply({
      type: "error",
      message: (err as Error).message,
      entityId: err instanceof IfcModelError ? err.entityId : undefined,
    });
  }
});
