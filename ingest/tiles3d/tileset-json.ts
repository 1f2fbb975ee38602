/** The subset of the 3D Tiles 1.1 tileset.json model the writers produce. */
export interface TileJson {
  boundingVolume: { region: number[] } | { box: number[] };
  geometricError: number;
  refine?: "ADD" | "REPLACE";
  transform?: number[];
  content?: { uri: string };
  children?: TileJson[];
}

export interface TilesetJson {
  asset: { version: "1.1"; generator: string; tilesetVersion?: string };
  geometricError: number;
  schema?: unknown;
  root: TileJson;
  extras?: Record<string, unknown>;
}

/** Geographic region in degrees and metres, converted to radians when written. */
export class Region {
  west = Number.POSITIVE_INFINITY;
  south = Number.POSITIVE_INFINITY;
  east = Number.NEGATIVE_INFINITY;
  north = Number.NEGATIVE_INFINITY;
  minH = Number.POSITIVE_INFINITY;
  maxH = Number.NEGATIVE_INFINITY;

  get empty(): boolean {
    return this.west > this.east;
  }

  addPoint(lon: number, lat: number, h: number): void {
    if (lon < this.west) this.west = lon;
    if (lon > this.east) this.east = lon;
    if (lat < this.south) this.south = lat;
    if (lat > this.north) this.north = lat;
    if (h < this.minH) this.minH = h;
    if (h > this.maxH) this.maxH = h;
  }

  addRegion(r: Region): void {
    if (r.empty) return;
    this.addPoint(r.west, r.south, r.minH);
    this.addPoint(r.east, r.north, r.maxH);
  }

  centre(): [number, number] {
    return [(this.west + this.east) / 2, (this.south + this.north) / 2];
  }

  toRadians(): number[] {
    const k = Math.PI / 180;
    return [this.west * k, this.south * k, this.east * k, this.north * k, this.minH, this.maxH];
  }

  toBBox(): [number, number, number, number, number, number] {
    return [this.west, this.south, this.east, this.north, this.minH, this.maxH];
  }
}
