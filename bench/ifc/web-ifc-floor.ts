import { readFileSync } from "node:fs";
import * as WebIFC from "web-ifc";

// Reference run: what web-ifc itself needs to turn a file into every mesh (vertex and index data). Timed like our
// ingest (run-ingest.ts): modules loaded first, then from a new IfcAPI (its WebAssembly instance, which our ingest
// must create too) through reading the file, OpenModel and StreamAllMeshes.
const [file] = process.argv.slice(2);
const started = performance.now();
const cpuStarted = process.cpuUsage();
const api = new WebIFC.IfcAPI();
await api.Init();
api.SetLogLevel(WebIFC.LogLevel.LOG_LEVEL_OFF);
const bytes = new Uint8Array(readFileSync(file));
const model = api.OpenModel(bytes);
let vertices = 0;
api.StreamAllMeshes(model, (mesh) => {
  for (let g = 0; g < mesh.geometries.size(); g++) {
    const geo = api.GetGeometry(model, mesh.geometries.get(g).geometryExpressID);
    vertices += api.GetVertexArray(geo.GetVertexData(), geo.GetVertexDataSize()).length / 6;
    api.GetIndexArray(geo.GetIndexData(), geo.GetIndexDataSize());
    geo.delete();
  }
});
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStarted);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(
  `${JSON.stringify({ seconds, cpuSeconds, vertices, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
