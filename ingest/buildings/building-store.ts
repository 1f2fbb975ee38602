import { Region } from "../tiles3d/tileset-json.ts";
import { growableF64, growableU32 } from "../util/growable.ts";
import type { Footprint } from "./footprint.ts";

const METRES_PER_DEGREE = 111_320;

/**
 * Columnar store of the buildings read from a source. Millions of small objects make the garbage collector
 * walk the whole heap repeatedly; keeping coordinates and numbers in a handful of typed arrays keeps a
 * 1M-building ingest linear in time.
 */
export class BuildingStore {
  private readonly coords = growableF64(4096); // lon, lat pairs of every ring
  private readonly ringStart = growableU32(4096); // first pair of each ring
  private readonly ringLength = growableU32(4096); // pairs in each ring
  private readonly ringIsOuter = growableU32(4096);
  private readonly firstRing = growableU32(4096); // per building
  private readonly ringCount = growableU32(4096);
  readonly base = growableF64(4096);
  readonly top = growableF64(4096);
  readonly cx = growableF64(4096);
  readonly cy = growableF64(4096);
  readonly size = growableF64(4096);
  private readonly bounds = growableF64(4096); // west, south, east, north per building
  readonly properties: Record<string, unknown>[] = [];

  get count(): number {
    return this.properties.length;
  }

  add(polygons: Footprint[], base: number, top: number, properties: Record<string, unknown>): number {
    const id = this.properties.length;
    this.firstRing.push(this.ringStart.length);
    let rings = 0;
    let west = Number.POSITIVE_INFINITY;
    let south = Number.POSITIVE_INFINITY;
    let east = Number.NEGATIVE_INFINITY;
    let north = Number.NEGATIVE_INFINITY;
    for (const p of polygons) {
      for (const [k, ring] of [p.outer, ...p.holes].entries()) {
        this.ringStart.push(this.coords.length / 2);
        this.ringLength.push(ring.length / 2);
        this.ringIsOuter.push(k === 0 ? 1 : 0);
        for (let i = 0; i < ring.length; i += 2) {
          const lon = ring[i];
          const lat = ring[i + 1];
          this.coords.push(lon);
          this.coords.push(lat);
          if (k === 0) {
            if (lon < west) west = lon;
            if (lon > east) east = lon;
            if (lat < south) south = lat;
            if (lat > north) north = lat;
          }
        }
        rings++;
      }
    }
    this.ringCount.push(rings);
    this.bounds.push(west);
    this.bounds.push(south);
    this.bounds.push(east);
    this.bounds.push(north);
    this.base.push(base);
    this.top.push(top);
    const cx = (west + east) / 2;
    const cy = (south + north) / 2;
    this.cx.push(cx);
    this.cy.push(cy);
    const dx = (east - west) * METRES_PER_DEGREE * Math.cos((cy * Math.PI) / 180);
    const dy = (north - south) * METRES_PER_DEGREE;
    this.size.push(Math.max(top - base, Math.hypot(dx, dy)));
    this.properties.push(properties);
    return id;
  }

  /** The building's polygons as views into the store (no copy). */
  polygons(id: number): Footprint[] {
    const out: Footprint[] = [];
    const first = this.firstRing.data[id];
    const end = first + this.ringCount.data[id];
    for (let r = first; r < end; r++) {
      const start = this.ringStart.data[r] * 2;
      const ring = this.coords.data.subarray(start, start + this.ringLength.data[r] * 2);
      if (this.ringIsOuter.data[r]) out.push({ outer: ring, holes: [] });
      else out[out.length - 1].holes.push(ring);
    }
    return out;
  }

  addToRegion(id: number, region: Region): void {
    const b = this.bounds.data;
    region.addPoint(b[4 * id], b[4 * id + 1], this.base.data[id]);
    region.addPoint(b[4 * id + 2], b[4 * id + 3], this.top.data[id]);
  }

  regionOf(id: number): Region {
    const r = new Region();
    this.addToRegion(id, r);
    return r;
  }
}
