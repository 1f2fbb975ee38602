import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import express from "express";
import { afterAll, expect, it } from "vitest";
import { ingestLas } from "../../ingest/pointcloud/ingest-las.ts";
import { openBrowser } from "../support/browser.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { readPotree } from "./support/read-potree.ts";

const root = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "cim-potree-browser-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// potree-core (the three.js port of potree's loader) as a web page would use it: ES modules through an import map.
const PAGE = `<!doctype html>
<html><body style="margin:0;background:#000">
<canvas id="c" width="800" height="600"></canvas>
<script type="importmap">{"imports":{"three":"/three/build/three.module.js","potree-core":"/potree-core/dist/index.js"}}</script>
<script type="module">
import * as THREE from "three";
import { PointSizeType, Potree } from "potree-core";
const renderer = new THREE.WebGLRenderer({ canvas: document.getElementById("c"), preserveDrawingBuffer: true });
renderer.setClearColor(0x000000);
const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(60, 800 / 600, 1, 1e6);
const potree = new Potree();
potree.pointBudget = 5000000;
window.__result = (async () => {
  const pco = await potree.loadPointCloud("metadata.json", "/cloud/");
  const offset = pco.position.toArray();
  // Drawn at the origin: float32 matrices would blur coordinates of 6 or 7 digits.
  pco.position.set(0, 0, 0);
  // potree-core 2.0.15 draws 2.0 clouds white whatever the colour mode (its shader reads three's "color"
  // attribute, its 2.0 loader fills "rgba"); the rgba values themselves are checked against the file below.
  pco.material.pointSizeType = PointSizeType.FIXED;
  pco.material.size = 2;
  scene.add(pco);
  const box = pco.pcoGeometry.boundingBox;
  const centre = box.getCenter(new THREE.Vector3());
  const size = box.getSize(new THREE.Vector3()).length();
  camera.up.set(0, 0, 1);
  camera.position.set(centre.x, centre.y - 0.45 * size, centre.z + 0.35 * size);
  camera.lookAt(centre);
  let stable = 0;
  let last = -1;
  for (let frame = 0; frame < 600 && stable < 20; frame++) {
    potree.updatePointClouds([pco], camera, renderer);
    renderer.render(scene, camera);
    await new Promise((r) => requestAnimationFrame(r));
    const n = pco.numVisiblePoints;
    stable = n === last && n > 0 ? stable + 1 : 0;
    last = n;
  }
  const nodes = pco.visibleNodes.map((v) => {
    const g = v.geometryNode;
    const attrs = v.sceneNode.geometry.attributes;
    return {
      name: g.name,
      numPoints: g.numPoints,
      min: g.boundingBox.min.toArray(),
      max: g.boundingBox.max.toArray(),
      position: Array.from(attrs.position.array),
      rgba: attrs.rgba ? Array.from(attrs.rgba.array) : null,
    };
  });
  const gl = renderer.getContext();
  const pixels = new Uint8Array(800 * 600 * 4);
  gl.readPixels(0, 0, 800, 600, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
  let lit = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] > 60) lit++;
  return { offset, numVisiblePoints: pco.numVisiblePoints, nodes, lit };
})();
</script></body></html>`;

async function serve(cloud: string): Promise<{ url: string; server: Server }> {
  const app = express();
  app.get("/", (_req, res) => {
    res.type("html").send(PAGE);
  });
  app.use("/three", express.static(join(root, "node_modules/three")));
  app.use("/potree-core", express.static(join(root, "node_modules/potree-core")));
  // Node data is read with HTTP range requests, which express.static answers.
  app.use("/cloud", express.static(cloud));
  const server = await new Promise<Server>((ok) => {
    const s = app.listen(0, "127.0.0.1", () => ok(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

interface PageNode {
  name: string;
  numPoints: number;
  min: number[];
  max: number[];
  position: number[];
  rgba: number[] | null;
}

describeWithSharedData("Potree 2.0 output in potree-core (headless Chromium)", () => {
  it("loads autzen's hierarchy and nodes with potree-core and draws them", async () => {
    const cloud = join(work, "autzen");
    await ingestLas({
      input: sharedPath("las/autzen_trim.las"),
      out: cloud,
      format: "potree",
      maxPointsInMemory: 20000,
    });
    const ours = readPotree(cloud);
    const { url, server } = await serve(cloud);
    const session = await openBrowser({ width: 800, height: 600 });
    try {
      await session.page.goto(url);
      await session.page.waitForFunction("window.__result !== undefined", { timeout: 60_000 });
      const result = (await session.page.evaluate("window.__result")) as {
        offset: number[];
        numVisiblePoints: number;
        nodes: PageNode[];
        lit: number;
      };
      mkdirSync(join(root, "tests/.artifacts"), { recursive: true });
      await session.page.screenshot({ path: join(root, "tests/.artifacts/potree-core-autzen.png") });
      expect(session.externalRequests(url)).toEqual([]);

      expect(result.offset).toEqual(ours.metadata.boundingBox.min);
      expect(result.numVisiblePoints).toBeGreaterThan(10_000);
      const byName = new Map(ours.nodes.map((n) => [n.name, n]));
      const pointsOf = new Map<string, typeof ours.points>();
      for (const p of ours.points) pointsOf.set(p.node, [...(pointsOf.get(p.node) ?? []), p]);
      expect(result.nodes.map((n) => n.name)).toContain("r");
      for (const n of result.nodes) {
        const mine = byName.get(n.name);
        expect(mine, n.name).toBeDefined();
        expect(n.numPoints).toBe(mine?.numPoints);
        // potree's decoder gives positions relative to the node's box minimum, in the node's record order.
        const expected = pointsOf.get(n.name) ?? [];
        expect(n.position.length).toBe(3 * expected.length);
        let worst = 0;
        expected.forEach((p, i) => {
          for (let c = 0; c < 3; c++) {
            const absolute = n.position[3 * i + c] + n.min[c] + result.offset[c];
            worst = Math.max(worst, Math.abs(absolute - p.position[c]));
          }
          // Autzen's colours are 8-bit: potree-core shows them as they are in the file.
          expect(n.rgba?.slice(4 * i, 4 * i + 3)).toEqual(p.values.rgb);
        });
        expect(worst).toBeLessThan(0.001);
      }
      // Something was drawn: the canvas is not all background.
      expect(result.lit).toBeGreaterThan(5000);
    } finally {
      await session.close();
      server.close();
    }
  }, 180_000);
});
