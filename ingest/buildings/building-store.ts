import { Region } from "../tiles3d/tileset-json.ts";
import type { Footprint } from "./footprint.ts";

/** Growable Float64 / Uint32 columns: a million buildings as a few large arrays instead of millions of objects. */
class F64Column {
  data = new Float64Array(4096);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

class U32Column {
  data = new Uint32Array(4096);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

const METRES_PER_DEGREE = 111_320;

/**
 * Columnar store of the buildings read from a source. Millions of small objects make the garbage collector
 * walk the whole heap repeatedly; keeping coordinates and numbers in a handful of typed arrays keeps a
 * 1M-building ingest linear in time.
 */
export class BuildingStore {
  private readonly coords = new F64Column(); // lon, lat pairs of every ring
  private readonly ringStart = new U32Column(); // first pair of each ring
  private readonly ringLength = new U32Column(); // pairs in each ring
  private readonly ringIsOuter = new U32Column();
  private readonly firstRing = new U32Column(); // per building
  private readonly ringCount = new U32Column();
  readonly base = new F64Column();
  readonly top = new F64Column();
  readonly cx = new F64Column();
  readonly cy = new F64Column();
  readonly size = new F64Column();
  private readonly bounds = new F64Column(); // west, south, east, north per building
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
