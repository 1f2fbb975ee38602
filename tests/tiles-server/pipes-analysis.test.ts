import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClearanceCheckResultSchema,
  CoverCheckResultSchema,
  PipeConnectivityResultSchema,
  PipeIsolationResultSchema,
  PipeTraceResultSchema,
} from "../../models/pipe-analysis.ts";
import { PipeGraph } from "../../tiles-server/pipes/pipe-graph.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "./support/db-targets.ts";
import { jsonRequest, type RawResponse, request } from "./support/http-client.ts";
import { gridNetwork, sampleNetwork, writePipesLayerFolder } from "./support/pipe-fixtures.ts";

const TOKEN = "test-admin-token-pipes-0123456789";
const LAYER = "mains";
const sorted = (xs: readonly string[]) => [...xs].sort();

function json<T = unknown>(res: RawResponse): T {
  return JSON.parse(res.body.toString("utf8")) as T;
}

let net1Dir: string;
beforeAll(() => {
  net1Dir = mkdtempSync(join(tmpdir(), "cim-net1-"));
  const root = resolve(import.meta.dirname, "../..");
  execFileSync(
    process.execPath,
    [
      "bin/cim.js",
      "ingest",
      "pipes",
      "../shared/data/pipes/epanet/Net1.inp",
      "--format",
      "epanet",
      "--origin",
      "118.29,33.96",
      "--units",
      "ft",
      "--out",
      join(net1Dir, "net1"),
    ],
    { cwd: root, stdio: "ignore" },
  );
});
afterAll(() => rmSync(net1Dir, { recursive: true, force: true }));

describe.each(DB_TARGETS)("pipe network analysis on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;

  const register = (path: string, id = LAYER) =>
    jsonRequest(server.url, "/api/layers", "POST", { path, id }, TOKEN);
  async function get<T>(path: string, schema: { parse(x: unknown): T }): Promise<T> {
    const res = await request(server.url, path);
    expect(res.status, `${path}: ${res.body.toString()}`).toBe(200);
    return schema.parse(json(res));
  }

  beforeAll(async () => {
    env = await target.create();
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
    const res = await register(writePipesLayerFolder(env.tempDir, "mains", sampleNetwork()));
    expect(res.status, res.body.toString()).toBe(201);
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it("traces a gravity network by inverts", async () => {
    const down = await get(`/api/pipes/${LAYER}/trace?from=D1&direction=down`, PipeTraceResultSchema);
    expect(down.mode).toBe("gravity");
    expect(sorted(down.links)).toEqual(["D1", "D2", "D3"]);
    expect(sorted(down.nodes)).toEqual(["OUT", "S2", "S3"]);
    const up = await get(`/api/pipes/${LAYER}/trace?from=D3&direction=up`, PipeTraceResultSchema);
    expect(sorted(up.links)).toEqual(["D1", "D2", "D3", "D4"]);
    expect(sorted(up.nodes)).toEqual(["S1", "S2", "S3", "S4"]);
    expect(up.counts).toEqual({ nodes: 4, links: 4 });
  });

  it("traces a pressure network down from the source and up back to it", async () => {
    const down = await get(`/api/pipes/${LAYER}/trace?from=R&direction=down`, PipeTraceResultSchema);
    expect(down.mode).toBe("pressure");
    expect(sorted(down.links)).toEqual(
      sorted(["P0", "P1", "P2", "P3", "P4", "P5", "P7", "P8", "P9", "P10", "P11", "P12", "VL1", "P13"]),
    );
    const up = await get(`/api/pipes/${LAYER}/trace?from=M3&direction=up`, PipeTraceResultSchema);
    expect(sorted(up.links)).toEqual(sorted(["P13", "VL1", "P10", "P9", "P8", "P7", "P0"]));
    expect(sorted(up.nodes)).toEqual(sorted(["M3", "G", "E", "V4", "F", "V3", "A", "R"]));
  });

  it("isolates a burst main between its valves", async () => {
    const r = await get(`/api/pipes/${LAYER}/isolate?link=P3`, PipeIsolationResultSchema);
    expect(sorted(r.valves)).toEqual(["V1", "V2"]);
    expect(sorted(r.isolatedLinks)).toEqual(["P11", "P2", "P3", "P4"]);
    expect(sorted(r.isolatedNodes)).toEqual(["B", "C", "M1"]);
    expect(sorted(r.affected.customers)).toEqual(["B", "M1"]);

    const branch = await get(`/api/pipes/${LAYER}/isolate?link=P13`, PipeIsolationResultSchema);
    expect(branch.valves).toEqual(["VL1"]);
    expect(sorted(branch.affected.customers)).toEqual(["G", "M3"]);

    // Shutting the source main off cuts every customer off.
    const source = await get(`/api/pipes/${LAYER}/isolate?link=P0`, PipeIsolationResultSchema);
    expect(sorted(source.valves)).toEqual(["V1", "V3"]);
    expect(sorted(source.affected.customers)).toEqual(["B", "G", "M1", "M2", "M3"]);
  });

  it("reports islands and dangling ends", async () => {
    const r = await get(`/api/pipes/${LAYER}/connectivity`, PipeConnectivityResultSchema);
    expect(r.islands.count).toBe(4);
    expect(r.islands.smallest.map((i) => i.nodeCount)).toEqual([1, 2, 5]);
    expect(r.islands.smallest[0].nodes).toEqual(["Z"]);
    expect(sorted(r.islands.smallest[1].links)).toEqual(["X1"]);
    expect(sorted(r.danglingEnds)).toEqual(["K1", "K2", "M1", "M2", "M3", "S1", "S4"]);
  });

  it("finds the clearance and cover violations", async () => {
    const c = await get(`/api/pipes/${LAYER}/checks/clearance`, ClearanceCheckResultSchema);
    expect(c.count).toBe(1);
    expect(sorted([c.violations[0].a, c.violations[0].b])).toEqual(["P9", "X1"]);
    expect(c.violations[0].vertical).toBeCloseTo(0.2, 2);
    expect(c.violations[0].required).toEqual({ horizontal: 0.5, vertical: 0.5 });
    const cover = await get(`/api/pipes/${LAYER}/checks/cover`, CoverCheckResultSchema);
    expect(cover.violations.map((v) => v.link)).toEqual(["P12"]);
    expect(cover.violations[0].cover).toBeCloseTo(0.35, 2);
    expect(cover.violations[0].required).toBe(0.7);
  });

  it("answers 404 and 400", async () => {
    expect((await request(server.url, "/api/pipes/nope/trace?from=P1&direction=up")).status).toBe(404);
    expect((await request(server.url, `/api/pipes/${LAYER}/trace?from=nope&direction=up`)).status).toBe(404);
    expect((await request(server.url, `/api/pipes/${LAYER}/isolate?link=nope`)).status).toBe(404);
    expect((await request(server.url, `/api/pipes/${LAYER}/trace?from=P1&direction=sideways`)).status).toBe(
      400,
    );
    expect((await request(server.url, `/api/pipes/${LAYER}/isolate`)).status).toBe(400);
  });

  it("rejects a network with a link to an unknown node, naming file, index and field", async () => {
    const bad = sampleNetwork();
    bad.links[3].to = "ghost";
    const res = await register(writePipesLayerFolder(env.tempDir, "bad", bad), "bad");
    expect(res.status).toBe(400);
    const msg = json<{ error: string }>(res).error;
    expect(msg).toContain("network.json");
    expect(msg).toContain("links[3].to");
    const invalid = await register(
      writePipesLayerFolder(env.tempDir, "bad2", { formatVersion: 1, nodes: [{}], links: [] }),
      "bad2",
    );
    expect(invalid.status).toBe(400);
    expect(json<{ error: string }>(invalid).error).toContain("nodes[0]");
  });

  it("registers Net1 and reloads the graph on re-register", async () => {
    const res = await register(join(net1Dir, "net1"), "net1");
    expect(res.status, res.body.toString()).toBe(201);
    const conn = await get("/api/pipes/net1/connectivity", PipeConnectivityResultSchema);
    expect(conn.counts).toMatchObject({ nodes: 11, links: 13 });
    const down = await get(
      "/api/pipes/net1/trace?from=9&fromType=node&direction=down",
      PipeTraceResultSchema,
    );
    expect(down.counts.links).toBe(13);

    // Re-register the sample under the same id: the cached graph is replaced.
    expect(
      (await register(writePipesLayerFolder(env.tempDir, "mains2", sampleNetwork()), "net1")).status,
    ).toBe(200);
    const again = await get("/api/pipes/net1/connectivity", PipeConnectivityResultSchema);
    expect(again.islands.count).toBe(4);
    expect((await jsonRequest(server.url, "/api/layers/net1", "DELETE", undefined, TOKEN)).status).toBe(204);
    expect((await request(server.url, "/api/pipes/net1/connectivity")).status).toBe(404);
  });
});

describe("pipe analysis on a 200k-link grid", () => {
  // Latency is measured by `npm run bench:pipes` (over HTTP, on a generated city network), not asserted here: this
  // checks that the serialisation the API sends (pre-encoded ids) is exactly the JSON of the analysis results.
  it("answers trace and isolation with the JSON of their results", () => {
    const net = gridNetwork(317, 317);
    expect(net.links.length).toBeGreaterThan(199_000);
    const t0 = performance.now();
    const graph = new PipeGraph(net.nodes, net.links);
    const build = performance.now() - t0;
    const times = { isolate: [] as number[], traceDown: [] as number[], traceUp: [] as number[] };
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let k = 0; k < 8; k++) {
      const link = net.links[Math.floor(rand() * net.links.length)].id;
      const node = net.nodes[Math.floor(rand() * net.nodes.length)].id;
      let t = performance.now();
      const iso = graph.isolateJson(link);
      times.isolate.push(performance.now() - t);
      t = performance.now();
      const down = graph.traceJson(link, "down");
      times.traceDown.push(performance.now() - t);
      t = performance.now();
      const up = graph.traceJson(node, "up", "node");
      times.traceUp.push(performance.now() - t);
      expect(JSON.parse(iso.toString("utf8"))).toEqual(graph.isolate(link));
      const downResult = PipeTraceResultSchema.parse(JSON.parse(down.toString("utf8")));
      expect(downResult).toEqual(graph.trace(link, "down"));
      // The grid is one pressure zone: down from any pipe reaches every node.
      expect(downResult.counts.nodes).toBe(net.nodes.length);
      expect(JSON.parse(up.toString("utf8"))).toEqual(graph.trace(node, "up", "node"));
    }
    const max = (xs: number[]) => Math.round(Math.max(...xs) * 10) / 10;
    console.log(
      `200k-link grid: build ${Math.round(build)} ms, max ms`,
      Object.fromEntries(Object.entries(times).map(([k, v]) => [k, max(v)])),
    );
  });
});
