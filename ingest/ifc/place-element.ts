import { ecefToGeodetic, type Vec3 } from "../crs/geodesy.ts";
import type { Georeference } from "./georeference.ts";
import type { ElementData, PlacedElementData, PlacedPart } from "./ifc-types.ts";

/** IFC colours are display (sRGB) values; glTF material factors are linear. */
const toLinear = (c: number) => Math.max(0, Math.min(1, c)) ** 2.2;

/** Spaces are volumes of air: drawn faint so that they never hide the building's own elements. */
const SPACE_ALPHA = 0.15;

/**
 * Puts one element on the Earth: positions to ECEF, normals rotated with them, geodetic bounds. Runs in the worker
 * that meshed the element, so that this per-vertex work is shared out like the meshing instead of queueing on the
 * main thread.
 */
export function placeElement(e: ElementData, geo: Georeference): PlacedElementData {
  const r = geo.rotation;
  const tmp: Vec3 = [0, 0, 0];
  const lo = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const hi = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const parts = e.parts.map((p): PlacedPart => {
    const n = p.positions.length / 3;
    const ecef = new Float64Array(n * 3);
    const normals = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const x = p.positions[3 * i];
      const y = p.positions[3 * i + 1];
      const z = p.positions[3 * i + 2];
      if (x < lo[0]) lo[0] = x;
      if (x > hi[0]) hi[0] = x;
      if (y < lo[1]) lo[1] = y;
      if (y > hi[1]) hi[1] = y;
      if (z < lo[2]) lo[2] = z;
      if (z > hi[2]) hi[2] = z;
      geo.toEcef(x, y, z, tmp);
      ecef[3 * i] = tmp[0];
      ecef[3 * i + 1] = tmp[1];
      ecef[3 * i + 2] = tmp[2];
      const nx = p.normals[3 * i];
      const ny = p.normals[3 * i + 1];
      const nz = p.normals[3 * i + 2];
      normals[3 * i] = r[0] * nx + r[4] * ny + r[8] * nz;
      normals[3 * i + 1] = r[1] * nx + r[5] * ny + r[9] * nz;
      normals[3 * i + 2] = r[2] * nx + r[6] * ny + r[10] * nz;
    }
    const alpha = e.ifcClass === "IfcSpace" ? Math.min(p.color[3], SPACE_ALPHA) : p.color[3];
    return {
      color: [toLinear(p.color[0]), toLinear(p.color[1]), toLinear(p.color[2]), alpha],
      ecef,
      normals,
      indices: p.indices,
    };
  });
  return { ...e, parts, bounds: geodeticBounds(lo, hi, geo) };
}

/**
 * Geodetic bounds of an element from the corners of its box in model axes, instead of converting every vertex
 * (a third of the element's placing time). Over an element the model-to-geodetic mapping is affine but for the
 * Earth's curvature, which moves a point by at most extent² / R (0.8 mm for a 100 m element): the bounds are
 * widened by that, so they always hold every vertex.
 */
function geodeticBounds(lo: number[], hi: number[], geo: Georeference): PlacedElementData["bounds"] {
  const b: PlacedElementData["bounds"] = [
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ];
  const tmp: Vec3 = [0, 0, 0];
  for (let k = 0; k < 8; k++) {
    geo.toEcef(k & 1 ? hi[0] : lo[0], k & 2 ? hi[1] : lo[1], k & 4 ? hi[2] : lo[2], tmp);
    const [lon, lat, h] = ecefToGeodetic(tmp[0], tmp[1], tmp[2]);
    if (lon < b[0]) b[0] = lon;
    if (lat < b[1]) b[1] = lat;
    if (lon > b[2]) b[2] = lon;
    if (lat > b[3]) b[3] = lat;
    if (h < b[4]) b[4] = h;
    if (h > b[5]) b[5] = h;
  }
  const extent = Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
  const lat = ((b[1] + b[3]) / 2) * (Math.PI / 180);
  const pad = (extent * extent * (1 + Math.abs(Math.tan(lat)))) / EARTH_RADIUS + 0.001;
  const degLat = (pad / EARTH_RADIUS) * (180 / Math.PI);
  const degLon = degLat / Math.max(0.01, Math.cos(lat));
  return [b[0] - degLon, b[1] - degLat, b[2] + degLon, b[3] + degLat, b[4] - pad, b[5] + pad];
}

const EARTH_RADIUS = 6_356_752;
