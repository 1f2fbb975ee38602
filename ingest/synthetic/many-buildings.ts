import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { between, pick, seededRandom } from "./random.ts";

const USES = ["住宅", "商业", "办公", "工业", "学校"] as const;

/**
 * Writes `count` synthetic building footprints as GeoJSON text sequences (one Feature per line), laid out on a
 * jittered grid of ~40 m cells around a centre: the input of the footprint-ingest benchmark and scale tests.
 */
export async function writeSyntheticBuildings(
  path: string,
  count: number,
  centre = { lon: 118.29, lat: 33.96 },
  seed = 42,
): Promise<void> {
  const rand = seededRandom(seed);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const side = Math.ceil(Math.sqrt(count));
  const cell = 40;
  const mPerDegLat = 110_940;
  const mPerDegLon = 111_320 * Math.cos((centre.lat * Math.PI) / 180);
  for (let i = 0; i < count; i++) {
    const gx = (i % side) - side / 2;
    const gy = Math.floor(i / side) - side / 2;
    const w = between(rand, 10, 30);
    const d = between(rand, 8, 25);
    const x = gx * cell + between(rand, 0, cell - w);
    const y = gy * cell + between(rand, 0, cell - d);
    const ring = [
      [x, y],
      [x + w, y],
      [x + w, y + d],
      [x, y + d],
      [x, y],
    ].map(([px, py]) => [
      Math.round((centre.lon + px / mPerDegLon) * 1e7) / 1e7,
      Math.round((centre.lat + py / mPerDegLat) * 1e7) / 1e7,
    ]);
    const floors = 1 + Math.floor(rand() * rand() * 40);
    const line = JSON.stringify({
      type: "Feature",
      properties: { id: i, name: `楼${i}`, use: pick(rand, USES), floors, height: floors * 3 + 1 },
      geometry: { type: "Polygon", coordinates: [ring] },
    });
    if (!out.write(`${line}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}
