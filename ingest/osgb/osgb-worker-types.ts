import type { Origin } from "../crs/source-crs.ts";
import type { TileRecord } from "./osgb-tile.ts";

export interface OsgbWorkerData {
  crsSpec: string;
  origin?: Origin;
  srsOrigin: [number, number, number];
  outDir: string;
}

export type OsgbWorkerReply =
  | { type: "done"; record: TileRecord }
  | { type: "error"; id: number; file: string; message: string; name: string };
