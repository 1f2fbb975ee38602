import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type IngestSummary, ingestBuildings } from "../ingest/buildings/ingest-buildings.ts";
import { ingestIfc } from "../ingest/ifc/ingest-ifc.ts";
import { ingestPipes } from "../ingest/pipes/ingest-pipes.ts";
import { DEMO_BIM_NAME, generateDemoBimIfc } from "../ingest/synthetic/demo-bim.ts";
import { DEMO_CITY_VERSION, generateDemoCity } from "../ingest/synthetic/demo-city.ts";
import { planDemoDevices, readDemoDeviceInputs } from "../ingest/synthetic/demo-devices.ts";
import { DEMO_PIPES_CRS, DEMO_PIPES_NAME, generateDemoPipes } from "../ingest/synthetic/demo-pipes.ts";
import {
  DEMO_CAMERA_FOLDER,
  ensureDemoVideo,
  HLS_PLAYLIST,
} from "../ingest/synthetic/demo-video/generate-demo-video.ts";
import { provisionFleet } from "../simulator/provision.ts";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../simulator/simulator.ts";
import { type RunningServer, registerLayerFolder, startServer } from "../tiles-server/server.ts";
import { DEFAULT_DATA_DIR } from "./paths.ts";
import { ensureViewerBuilt } from "./viewer-build.ts";

export interface DemoOptions {
  port?: number;
  dataDir?: string;
  logger?: boolean;
  /** Run the telemetry simulator against the demo's devices (default: unless env CIM_SIMULATE=0). */
  simulate?: boolean;
  /** Simulator settings (interval, speed, bursts). */
  simulator?: Omit<SimulatorOptions, "serverUrl" | "mqttUrl" | "log">;
}

export interface RunningDemo extends RunningServer {
  /** The in-process telemetry simulator, when it runs. */
  simulator?: RunningSimulator;
}

export const DEMO_LAYER_ID = "demo-buildings";
export const DEMO_BIM_LAYER_ID = "demo-bim";
export const DEMO_PIPES_LAYER_ID = "demo-pipes";
/** The demo camera's HLS stream, relative to the server root (`<dataDir>/video` is served at /media/). */
export const DEMO_CAMERA_VIDEO_URL = `/media/${DEMO_CAMERA_FOLDER}/${HLS_PLAYLIST}`;

/**
 * `npm start`: generates the demo district once (cached by version), ingests it through the same code as
 * `cim ingest buildings`, starts the server with the viewer and registers the layer.
 */
export async function startDemo(opts: DemoOptions = {}): Promise<RunningDemo> {
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const log = (line: string) => {
    if (opts.logger !== false) process.stdout.write(`${line}\n`);
  };
  const viewerDir = await ensureViewerBuilt(log);
  const tilesDir = await ensureDemoTiles(join(dataDir, "demo"), log);
  const bimDir = await ensureDemoBim(join(dataDir, "demo"), log);
  const pipesDir = await ensureDemoPipes(join(dataDir, "demo"), log);
  const mediaDir = join(dataDir, "video");
  await ensureDemoVideo(mediaDir, log);
  const server = await startServer({
    port: opts.port,
    dataDir: join(dataDir, "pglite"),
    viewerDir,
    mediaDir,
    logger: opts.logger,
  });
  try {
    await registerLayerFolder(server, { path: tilesDir, id: DEMO_LAYER_ID, name: "宿迁示范区建筑白模" });
    await registerLayerFolder(server, { path: bimDir, id: DEMO_BIM_LAYER_ID, name: `${DEMO_BIM_NAME} BIM` });
    await registerLayerFolder(server, { path: pipesDir, id: DEMO_PIPES_LAYER_ID, name: DEMO_PIPES_NAME });
    await registerDemoDevices(server, join(dataDir, "demo", `v${DEMO_CITY_VERSION}`), bimDir, pipesDir);
  } catch (err) {
    await server.close();
    throw err;
  }
  log(`CIM Twin demo city: ${server.url}/`);
  log(`MQTT telemetry: ${server.mqttUrl} (topic cim/<deviceId>/telemetry)`);
  if (!(opts.simulate ?? process.env.CIM_SIMULATE !== "0")) return server;
  const simulator = await startSimulator({
    serverUrl: server.url,
    mqttUrl: server.mqttUrl,
    log,
    ...opts.simulator,
  }).catch(async (err) => {
    await server.close();
    throw err;
  });
  const every = (opts.simulator?.intervalMs ?? 5000) / 1000;
  const bursts = (opts.simulator?.leakEveryMs ?? 300_000) / 60_000;
  log(
    `Telemetry simulator: ${simulator.deviceCount()} devices, a reading every ${every} s, ` +
      `${bursts > 0 ? `a water main burst every ${bursts} min` : "no main bursts"} (CIM_SIMULATE=0 turns it off)`,
  );
  return {
    ...server,
    simulator,
    async close() {
      await simulator.stop();
      await server.close();
    },
  };
}

/**
 * The demo's IoT devices, cameras and their alarm rules, derived from the generated data and registered through
 * the server's API; ids already registered (a restart) are left as they are.
 */
async function registerDemoDevices(
  server: RunningServer,
  versionDir: string,
  bimDir: string,
  pipesDir: string,
) {
  const inputs = await readDemoDeviceInputs({
    network: join(pipesDir, "network.json"),
    buildings: join(versionDir, "buildings.geojson"),
    roads: join(versionDir, "roads.geojson"),
    bimElements: join(bimDir, "elements.json"),
  });
  const layers = { buildings: DEMO_LAYER_ID, bim: DEMO_BIM_LAYER_ID, pipes: DEMO_PIPES_LAYER_ID };
  const fleet = planDemoDevices(inputs, layers, DEMO_CAMERA_VIDEO_URL, DEMO_BIM_NAME);
  await provisionFleet(server.url, server.adminToken, fleet);
}

async function ensureDemoTiles(demoDir: string, log: (line: string) => void): Promise<string> {
  const versionDir = join(demoDir, `v${DEMO_CITY_VERSION}`);
  const tilesDir = join(versionDir, "tiles", "buildings");
  if (existsSync(join(tilesDir, "tileset.json"))) return tilesDir;
  log("generating the demo city (first start only)...");
  await mkdir(versionDir, { recursive: true });
  const city = generateDemoCity();
  const buildingsFile = join(versionDir, "buildings.geojson");
  await writeFile(buildingsFile, JSON.stringify(city.buildings));
  await writeFile(join(versionDir, "roads.geojson"), JSON.stringify(city.roads));
  const summary: IngestSummary = await ingestBuildings({
    input: buildingsFile,
    out: tilesDir,
    name: "宿迁示范区建筑白模",
    // Small tiles so that even this small district streams with several levels of detail.
    leafCapacity: 60,
    innerCapacity: 20,
  });
  log(`  ${summary.featuresWritten} buildings in ${summary.tiles} tiles`);
  return tilesDir;
}

/** The demo's BIM scheme: an IFC4 file written by the project, ingested like any customer's IFC. */
async function ensureDemoBim(demoDir: string, log: (line: string) => void): Promise<string> {
  const versionDir = join(demoDir, `v${DEMO_CITY_VERSION}`);
  const tilesDir = join(versionDir, "tiles", "bim");
  if (existsSync(join(tilesDir, "tileset.json"))) return tilesDir;
  log("writing the demo BIM building (first start only)...");
  await mkdir(versionDir, { recursive: true });
  const ifcFile = join(versionDir, "demo-bim.ifc");
  await writeFile(ifcFile, await generateDemoBimIfc());
  const summary = await ingestIfc({
    input: ifcFile,
    out: tilesDir,
    name: `${DEMO_BIM_NAME} BIM`,
    includeSpaces: true,
  });
  log(`  ${summary.products} BIM elements in ${summary.tiles} tiles`);
  return tilesDir;
}

/**
 * The demo's underground networks: CJJ 61 survey tables (points + lines, CGCS2000 3° GK CM 117E) written by the
 * project and ingested like any customer's survey (`cim ingest pipes --format cjj --crs EPSG:4548`).
 */
async function ensureDemoPipes(demoDir: string, log: (line: string) => void): Promise<string> {
  const versionDir = join(demoDir, `v${DEMO_CITY_VERSION}`);
  const tilesDir = join(versionDir, "tiles", "pipes");
  if (existsSync(join(tilesDir, "tileset.json"))) return tilesDir;
  log("writing the demo pipe networks (first start only)...");
  await mkdir(versionDir, { recursive: true });
  const tables = generateDemoPipes();
  const pointsFile = join(versionDir, "demo-pipes-points.csv");
  const linesFile = join(versionDir, "demo-pipes-lines.csv");
  await writeFile(pointsFile, tables.points);
  await writeFile(linesFile, tables.lines);
  const summary = await ingestPipes({
    inputs: [pointsFile, linesFile],
    out: tilesDir,
    format: "cjj",
    crs: DEMO_PIPES_CRS,
    name: DEMO_PIPES_NAME,
  });
  log(`  ${summary.nodes} pipe points and ${summary.links} segments in ${summary.tiles} tiles`);
  return tilesDir;
}

/** Reads back the generated demo footprints (tests compare the viewer against them). */
export async function readDemoBuildings(dataDir: string): Promise<GeoJSON.FeatureCollection> {
  return JSON.parse(
    await readFile(join(dataDir, "demo", `v${DEMO_CITY_VERSION}`, "buildings.geojson"), "utf8"),
  );
}
