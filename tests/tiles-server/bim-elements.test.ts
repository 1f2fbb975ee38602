import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BimClassCount,
  type BimElement,
  BimElementSchema,
  type BimElementSearchResult,
  BimElementSearchResultSchema,
  type BimStorey,
} from "../../models/bim.ts";
import { type RunningServer, registerLayerFolder, startServer } from "../../tiles-server/server.ts";
import {
  expectedOrder,
  gid,
  manyElements,
  sampleElements,
  writeBimLayerFolder,
  writeElementsJson,
} from "./support/bim-fixtures.ts";
import { DB_TARGETS, type DbEnvironment } from "./support/db-targets.ts";
import { jsonRequest, type RawResponse, request } from "./support/http-client.ts";
import { writeLayerFolder } from "./support/layer-fixtures.ts";

const TOKEN = "test-admin-token-bim-0123456789";
const LAYER = "office";

function json<T = unknown>(res: RawResponse): T {
  return JSON.parse(res.body.toString("utf8")) as T;
}

describe.each(DB_TARGETS)("BIM element index on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;
  let root: string;
  const elements = sampleElements();

  async function search(query: string, layer = LAYER): Promise<BimElementSearchResult> {
    const res = await request(server.url, `/api/bim/${layer}/elements${query}`);
    expect(res.status, `${query}: ${res.body.toString()}`).toBe(200);
    return BimElementSearchResultSchema.parse(json(res));
  }

  const names = (r: BimElementSearchResult) => r.items.map((e) => e.name);
  const ids = (r: BimElementSearchResult) => r.items.map((e) => e.globalId);

  function register(path: string, id = LAYER): Promise<RawResponse> {
    return jsonRequest(server.url, "/api/layers", "POST", { path, id }, TOKEN);
  }

  beforeAll(async () => {
    env = await target.create();
    root = writeBimLayerFolder(env.tempDir, "office-bim", elements);
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
    const res = await register(root);
    expect(res.status, res.body.toString()).toBe(201);
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it("lists every element of the layer, ordered by storey elevation then name", async () => {
    const all = await search("");
    expect(all.total).toBe(30);
    expect(all.items).toEqual(expectedOrder(elements));
    // Spot checks of the documented order: the basement first, elements outside storeys last.
    expect(all.items[0].storey).toBe("Basement");
    expect(all.items.slice(-2).map((e) => e.storey)).toEqual([null, null]);
    const firstFloor = all.items.filter((e) => e.storey === "一层").map((e) => e.name);
    expect(firstFloor).toEqual([
      "Door-A1",
      "Wand-Ext-ERDG-1",
      "内墙-A",
      "外墙-01",
      "外墙-04",
      "外墙-07",
      "柱 C-1",
      "楼板 100%",
      "窗-C1",
      null,
    ]);
    for (const item of all.items) BimElementSchema.parse(item);
  });

  it("searches names case-insensitively by substring, including Chinese and full-width text", async () => {
    expect(names(await search("?q=door")).sort()).toEqual(["DOOR-C3", "Door-A1", "door-b2"]);
    expect(names(await search("?q=DoOr-B"))).toEqual(["door-b2"]);
    expect((await search(`?q=${encodeURIComponent("外墙")}`)).total).toBe(9);
    expect(names(await search(`?q=${encodeURIComponent("墙-0")}`))).toEqual(
      expect.arrayContaining(["外墙-01", "外墙-09"]),
    );
    expect(names(await search(`?q=${encodeURIComponent("内墙")}`))).toEqual(["内墙-A", "内墙-B"]);
    expect(names(await search(`?q=${encodeURIComponent("窗")}`))).toEqual(["窗-C1", "窗-C2"]);
    // Full-width Latin letters as typed by a Chinese input method fold to ASCII.
    expect(names(await search(`?q=${encodeURIComponent("ＷＩＮＤＯＷ")}`))).toEqual([
      "Window W1",
      "Window W2",
      "window_w3",
    ]);
    expect((await search(`?q=${encodeURIComponent("不存在")}`)).total).toBe(0);
  });

  it("treats LIKE wildcards in q literally", async () => {
    expect(names(await search("?q=%25"))).toEqual(["楼板 100%"]);
    // Ordered by storey elevation: 二层 (3.6 m) before 屋顶 (7.2 m).
    expect(names(await search("?q=_"))).toEqual(["楼板_200", "window_w3"]);
    expect(names(await search(`?q=${encodeURIComponent("板_2")}`))).toEqual(["楼板_200"]);
    expect((await search(`?q=${encodeURIComponent("\\")}`)).total).toBe(0);
  });

  it("finds elements by exact GlobalId and by GlobalId prefix", async () => {
    const target = elements[17];
    const exact = await search(`?q=${encodeURIComponent(target.globalId)}`);
    expect(exact.total).toBe(1);
    expect(exact.items[0]).toEqual(target);

    // "G0001" is the prefix of elements 10-19.
    const prefix = await search("?q=G0001");
    expect(ids(prefix).sort()).toEqual(
      elements
        .slice(10, 20)
        .map((e) => e.globalId)
        .sort(),
    );
    expect(
      (await search(`?q=${encodeURIComponent(gid(5).slice(0, 12))}`)).items.map((e) => e.globalId),
    ).toEqual([gid(5)]);

    const one = await request(
      server.url,
      `/api/bim/${LAYER}/elements/${encodeURIComponent(target.globalId)}`,
    );
    expect(one.status).toBe(200);
    expect(json(one)).toEqual(target);
    const missing = await request(server.url, `/api/bim/${LAYER}/elements/${gid(999)}`);
    expect(missing.status).toBe(404);
    expect(json<{ error: string }>(missing).error).toContain(gid(999));
    expect((await request(server.url, `/api/bim/${LAYER}/elements/not-a-guid!`)).status).toBe(400);
  });

  it("filters by one class, a comma-separated list or a repeated parameter", async () => {
    const walls = await search("?class=IfcWall");
    expect(walls.total).toBe(13);
    expect(walls.items.every((e) => e.ifcClass === "IfcWall")).toBe(true);

    const list = await search("?class=IfcDoor,IfcColumn");
    expect(list.total).toBe(6);
    expect(new Set(list.items.map((e) => e.ifcClass))).toEqual(new Set(["IfcDoor", "IfcColumn"]));
    expect(await search("?class=IfcDoor&class=IfcColumn")).toEqual(list);
    expect(await search("?class=IfcDoor,%20IfcColumn")).toEqual(list);

    expect((await search("?class=IfcPipeSegment")).total).toBe(0);
    // Exact match: class names are case-sensitive.
    expect((await search("?class=Ifcwall")).total).toBe(0);
  });

  it("filters by exact storey name and combines filters", async () => {
    const first = await search(`?storey=${encodeURIComponent("一层")}`);
    expect(first.total).toBe(10);
    expect(first.items.every((e) => e.storey === "一层" && e.storeyElevation === 0)).toBe(true);
    expect((await search(`?storey=${encodeURIComponent("一")}`)).total).toBe(0);

    const combined = await search(`?storey=${encodeURIComponent("二层")}&class=IfcWall,IfcWindow&q=w`);
    expect(names(combined)).toEqual(["Window W1", "wand-int-og-2"]);
    // An empty parameter is the same as none.
    expect((await search("?q=&class=&storey=")).total).toBe(30);
  });

  it("pages with limit/offset, reporting the total of all matches", async () => {
    const all = (await search("?limit=1000")).items;
    const pages: BimElement[] = [];
    for (let offset = 0; offset < 30; offset += 7) {
      const page = await search(`?limit=7&offset=${offset}`);
      expect(page.total).toBe(30);
      expect(page.items.length).toBe(Math.min(7, 30 - offset));
      pages.push(...page.items);
    }
    expect(pages).toEqual(all);
    expect(await search("?offset=30")).toEqual({ total: 30, items: [] });
    const walls = await search("?class=IfcWall&limit=5&offset=10");
    expect(walls.total).toBe(13);
    expect(walls.items).toHaveLength(3);
  });

  it("defaults to 100 items per page and allows at most 1000", async () => {
    const bigRoot = writeBimLayerFolder(env.tempDir, "big-bim", manyElements(1200));
    expect((await register(bigRoot, "big")).status).toBe(201);
    const first = await search("", "big");
    expect(first.total).toBe(1200);
    expect(first.items).toHaveLength(100);
    expect((await search("?limit=1000", "big")).items).toHaveLength(1000);
    expect((await request(server.url, "/api/bim/big/elements?limit=1001")).status).toBe(400);
  });

  it("lists storeys by elevation and classes alphabetically, with counts", async () => {
    const storeys = await request(server.url, `/api/bim/${LAYER}/storeys`);
    expect(storeys.status).toBe(200);
    expect(json<BimStorey[]>(storeys)).toEqual([
      { name: "Basement", elevation: -3.5, count: 3 },
      { name: "一层", elevation: 0, count: 10 },
      { name: "二层", elevation: 3.6, count: 9 },
      { name: "屋顶", elevation: 7.2, count: 6 },
      { name: null, elevation: null, count: 2 },
    ]);
    const classes = await request(server.url, `/api/bim/${LAYER}/classes`);
    expect(classes.status).toBe(200);
    expect(json<BimClassCount[]>(classes)).toEqual([
      { ifcClass: "IfcBuildingElementProxy", count: 2 },
      { ifcClass: "IfcColumn", count: 2 },
      { ifcClass: "IfcDoor", count: 4 },
      { ifcClass: "IfcSlab", count: 4 },
      { ifcClass: "IfcWall", count: 13 },
      { ifcClass: "IfcWindow", count: 5 },
    ]);
  });

  it("answers 404 for an unknown layer and for a layer that is not BIM", async () => {
    const buildings = writeLayerFolder(env.tempDir, "plain-buildings").root;
    expect((await register(buildings, "plain")).status).toBe(201);
    for (const path of ["elements", "storeys", "classes", `elements/${gid(1)}`]) {
      const unknown = await request(server.url, `/api/bim/no-such-layer/${path}`);
      expect(unknown.status, path).toBe(404);
      expect(json<{ error: string }>(unknown).error, path).toContain("no-such-layer");
      const plain = await request(server.url, `/api/bim/plain/${path}`);
      expect(plain.status, path).toBe(404);
      expect(json<{ error: string }>(plain).error, path).toMatch(/not a BIM layer/);
    }
  });

  it("rejects bad query parameters with 400 naming the parameter", async () => {
    const cases: [string, RegExp][] = [
      ["limit=0", /\blimit:/],
      ["limit=1001", /\blimit:/],
      ["limit=abc", /\blimit:/],
      ["limit=2.5", /\blimit:/],
      ["offset=-1", /\boffset:/],
      ["class=wall", /\bclass\b.*IFC entity name/],
      ["class=IfcWall,", /\bclass\b/],
      ["q=a&q=b", /\bq:/],
      [`q=${"x".repeat(201)}`, /\bq:/],
      ["colour=red", /colour/],
    ];
    for (const [query, pattern] of cases) {
      const res = await request(server.url, `/api/bim/${LAYER}/elements?${query}`);
      expect(res.status, query).toBe(400);
      const body = json<{ error: string; details: unknown }>(res);
      expect(body.error, query).toMatch(pattern);
      expect(body.details, query).toEqual(expect.any(Array));
    }
  });

  it("registers a BIM folder in-process too", async () => {
    const { created, layer } = await registerLayerFolder(server, { path: root, id: "office-copy" });
    expect(created).toBe(true);
    expect(layer.type).toBe("bim");
    expect((await search("", "office-copy")).items).toEqual(expectedOrder(elements));
  });

  it("replaces the element rows when the layer is registered again", async () => {
    const folder = writeBimLayerFolder(env.tempDir, "replace-bim", elements.slice(0, 5));
    expect((await register(folder, "replace-me")).status).toBe(201);
    expect((await search("", "replace-me")).total).toBe(5);

    const changed = [
      { ...elements[0], name: "外墙-01 (改)" },
      elements[1],
      { ...elements[20], globalId: gid(500) },
    ];
    writeElementsJson(folder, changed);
    expect((await register(folder, "replace-me")).status).toBe(200);
    const after = await search("", "replace-me");
    expect(after.total).toBe(3);
    expect(after.items).toEqual(expectedOrder(changed));
    expect((await search(`?q=${elements[3].globalId}`, "replace-me")).total).toBe(0);

    // Re-registered as a non-BIM layer: no element rows remain (and the API says it is not BIM).
    const plainFolder = writeLayerFolder(env.tempDir, "replace-plain").root;
    expect((await register(plainFolder, "replace-me")).status).toBe(200);
    expect((await request(server.url, "/api/bim/replace-me/elements")).status).toBe(404);
    writeElementsJson(folder, changed);
    expect((await register(folder, "replace-me")).status).toBe(200);
    expect((await search("", "replace-me")).total).toBe(3);
  });

  it("rejects an invalid elements.json with 400 naming the file and element, leaving the DB as it was", async () => {
    const before = json(await request(server.url, `/api/layers/${LAYER}`));
    const good = sampleElements();
    const badBbox = good.map((e, i) => (i === 3 ? { ...e, bbox: [116.4, 39.9, 116.3, 39.91, 0, 3] } : e));
    const noId = good.map((e, i) => {
      if (i !== 7) return e;
      const { globalId: _omit, ...rest } = e;
      return rest;
    });
    const duplicate = [...good, { ...good[4], name: "copy" }];
    const cases: { name: string; content: unknown; expected: RegExp[] }[] = [
      {
        name: "bad-bbox",
        content: badBbox,
        expected: [/elements\[3\]\.bbox/, new RegExp(`GlobalId "${good[3].globalId.replace("$", "\\$")}"`)],
      },
      { name: "no-global-id", content: noId, expected: [/elements\[7\]\.globalId/] },
      {
        name: "bad-class",
        content: good.map((e, i) => (i === 12 ? { ...e, ifcClass: "WALL" } : e)),
        expected: [/elements\[12\]\.ifcClass/],
      },
      {
        name: "nul-name",
        content: good.map((e, i) => (i === 2 ? { ...e, name: "a\u0000b" } : e)),
        expected: [/elements\[2\]\.name/, /NUL/],
      },
      {
        name: "duplicate",
        content: duplicate,
        expected: [/elements\[30\]\.globalId/, /duplicate GlobalId/, /element 4\b/],
      },
      { name: "wrong-version", content: { formatVersion: 2, elements: good }, expected: [/formatVersion/] },
      { name: "not-json", content: "{ elements: [", expected: [/not valid JSON/] },
      { name: "missing", content: undefined, expected: [/missing/, /bim/] },
    ];
    for (const c of cases) {
      const folder = writeBimLayerFolder(env.tempDir, `invalid-${c.name}`, c.content, "Changed name");
      const res = await register(folder);
      expect(res.status, c.name).toBe(400);
      const { error } = json<{ error: string }>(res);
      expect(error, c.name).toContain(join(folder, "elements.json"));
      for (const pattern of c.expected) expect(error, c.name).toMatch(pattern);
      // Neither the layer row nor its elements changed.
      expect(json(await request(server.url, `/api/layers/${LAYER}`)), c.name).toEqual(before);
      expect((await search("?limit=1000")).items, c.name).toEqual(expectedOrder(elements));
    }
  });

  it("rolls back the layer row and every inserted batch when the database fails mid-insert", async () => {
    const db = server.catalog["db"];
    const table = db.table("bim_elements");
    const fn = `${db.table("bim_elements").split(".")[0]}.cim_test_fail_insert`;
    const poison = gid(11_000, "P");
    await db.pool.query(`
      CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.global_id = '${poison}' THEN RAISE EXCEPTION 'injected failure'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER cim_test_fail_insert BEFORE INSERT ON ${table}
        FOR EACH ROW EXECUTE FUNCTION ${fn}();
    `);
    try {
      const before = json(await request(server.url, `/api/layers/${LAYER}`));
      // 12 000 elements: the failure comes in the second INSERT batch, after 10 000 rows went in.
      const folder = writeBimLayerFolder(env.tempDir, "poisoned-bim", manyElements(12_000, "P"), "Poisoned");
      const res = await register(folder);
      expect(res.status).toBe(500);
      expect(json(await request(server.url, `/api/layers/${LAYER}`))).toEqual(before);
      expect((await search("?limit=1000")).items).toEqual(expectedOrder(elements));
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE global_id LIKE 'P%'`,
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await db.pool.query(`DROP TRIGGER cim_test_fail_insert ON ${table}; DROP FUNCTION ${fn}();`);
    }
  });

  it("registers a 50 000-element model in a few seconds and still searches it quickly", async () => {
    const folder = writeBimLayerFolder(env.tempDir, "large-bim", manyElements(50_000, "L"), "Large");
    const started = performance.now();
    const res = await register(folder, "large");
    const registerMs = performance.now() - started;
    expect(res.status, res.body.toString()).toBe(201);
    expect(registerMs).toBeLessThan(15_000);

    const t0 = performance.now();
    const hits = await search(
      `?q=${encodeURIComponent("#4999")}&class=IfcWall,IfcSlab,IfcDoor,IfcWindow,IfcBeam,IfcColumn,IfcPipeSegment`,
      "large",
    );
    const searchMs = performance.now() - t0;
    expect(hits.total).toBe(11); // #4999 and #49990-#49999
    expect(searchMs).toBeLessThan(2000);
    const byId = await search(`?q=${gid(31_337, "L")}`, "large");
    expect(byId.items.map((e) => e.name)).toEqual(["构件 IfcColumn #31337"]);
    const storeys = json<BimStorey[]>(await request(server.url, "/api/bim/large/storeys"));
    expect(storeys).toHaveLength(12);
    expect(storeys.reduce((sum, s) => sum + s.count, 0)).toBe(50_000);
    console.info(
      `[${target.name}] 50k elements: register ${registerMs.toFixed(0)} ms, search ${searchMs.toFixed(0)} ms`,
    );
  });

  it("removes the element rows with the layer (cascade)", async () => {
    const db = server.catalog["db"];
    const count = async (layer: string) =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${db.table("bim_elements")} WHERE layer_id = $1`,
          [layer],
        )
      ).rows[0].n;
    expect(await count(LAYER)).toBe(30);
    const res = await request(server.url, `/api/layers/${LAYER}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(204);
    expect(await count(LAYER)).toBe(0);
    expect((await request(server.url, `/api/bim/${LAYER}/elements`)).status).toBe(404);
    expect((await request(server.url, `/api/bim/${LAYER}/storeys`)).status).toBe(404);
    // Other BIM layers keep theirs.
    expect(await count("office-copy")).toBe(30);
  });

  it("documents the BIM endpoints in the OpenAPI document", async () => {
    const doc = json<{
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>(await request(server.url, "/api/openapi.json"));
    const search = doc.paths["/api/bim/{layerId}/elements"].get;
    expect(search.parameters?.map((p) => p.name)).toEqual(["q", "class", "storey", "limit", "offset"]);
    expect(doc.paths["/api/bim/{layerId}/storeys"]).toHaveProperty("get");
    expect(doc.paths["/api/bim/{layerId}/classes"]).toHaveProperty("get");
    expect(doc.paths["/api/bim/{layerId}/elements/{globalId}"]).toHaveProperty("get");
    expect(Object.keys(doc.components.schemas.BimElement.properties ?? {})).toEqual([
      "globalId",
      "ifcClass",
      "name",
      "objectType",
      "storey",
      "storeyElevation",
      "bbox",
    ]);
    expect(Object.keys(doc.components.schemas.BimElementSearchResult.properties ?? {})).toEqual([
      "total",
      "items",
    ]);
  });
});
