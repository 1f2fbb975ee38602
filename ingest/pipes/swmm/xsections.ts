import type { Section } from "../../../models/pipes.ts";
import type { RowReader } from "../inp-sections.ts";

/**
 * SWMM 5 [XSECTIONS] shapes -> Section (metres). Geom1 is the full height for every shape; the width is Geom2 for
 * shapes that take one, and a fixed ratio of the height for the standard closed shapes (the wMax / yFull ratios
 * of SWMM's xsect.c). Shapes other than circular, rectangular, trapezoidal and triangular are kept as "other" with
 * their bounding width x height; the SWMM shape name stays in the Shape attribute.
 */

/** Width / height of SWMM's fixed-proportion closed shapes (xsect.c, xsect_setParams). */
const WIDTH_RATIO: Record<string, number> = {
  EGG: 2 / 3,
  HORSESHOE: 1,
  GOTHIC: 0.84,
  CATENARY: 0.9,
  SEMIELLIPTICAL: 1,
  BASKETHANDLE: 0.944,
  SEMICIRCULAR: 1.64,
};

/** Shapes whose width is Geom2 (bounding box, "other" unless listed in SECTION_ENUM). */
const WIDTH_FROM_GEOM2 = new Set([
  "RECT_CLOSED",
  "RECT_OPEN",
  "TRIANGULAR",
  "PARABOLIC",
  "POWER",
  "RECT_TRIANGULAR",
  "RECT_ROUND",
  "MODBASKETHANDLE",
  "HORIZ_ELLIPSE",
  "VERT_ELLIPSE",
  "ARCH",
]);

const SECTION_ENUM: Record<string, "rect_closed" | "rect_open" | "triangular"> = {
  RECT_CLOSED: "rect_closed",
  RECT_OPEN: "rect_open",
  TRIANGULAR: "triangular",
};

const CIRCULAR = new Set(["CIRCULAR", "FORCE_MAIN", "FILLED_CIRCULAR"]);

/**
 * Reads one [XSECTIONS] row (Link Shape Geom1 Geom2 Geom3 Geom4 (Barrels Culvert); Link CUSTOM Geom1 Curve
 * (Barrels); Link IRREGULAR Transect; Link STREET Street) into the reader's attributes and returns the section in
 * metres, or null (with a warning) when its size is not given by the row itself.
 * @param toMetres metres per file length unit (0.3048 for US files, 1 for SI).
 */
export function readXsection(r: RowReader, toMetres: number): Section | null {
  const shape = r.text(1, "Shape", true)?.toUpperCase() ?? null;
  if (shape === null) return null;
  if (shape === "DUMMY") return null;
  if (shape === "IRREGULAR" || shape === "STREET") {
    r.text(2, shape === "IRREGULAR" ? "Transect" : "Street", true);
    r.warn("Shape", `${shape} cross-section (from a transect) is not drawn: section left empty`);
    return null;
  }
  if (shape === "CUSTOM") {
    r.number(2, "Geom1", { required: true, positive: true });
    r.text(3, "Curve", true);
    r.number(4, "Barrels", { positive: true });
    r.warn("Shape", "CUSTOM cross-section (shape curve) is not drawn: section left empty");
    return null;
  }
  const g1 = r.number(2, "Geom1", { required: true, positive: true });
  const g2 = r.number(3, "Geom2", { nonNegative: true });
  const g3 = r.number(4, "Geom3", { nonNegative: true });
  const g4 = r.number(5, "Geom4", { nonNegative: true });
  r.number(6, "Barrels", { positive: true });
  r.text(7, "Culvert");
  if (g1 === null) return null;
  const height = g1 * toMetres;

  if (CIRCULAR.has(shape)) return { shape: "circular", diameter: height };
  const ratio = WIDTH_RATIO[shape];
  if (ratio !== undefined) return { shape: "other", width: height * ratio, height };
  if (shape === "TRAPEZOIDAL") {
    // Top width = bottom width + height x (left slope + right slope), slopes as run / rise.
    const top = (g2 ?? 0) + g1 * ((g3 ?? 0) + (g4 ?? 0));
    if (!(top > 0)) {
      r.fail("Geom2", "TRAPEZOIDAL cross-section has neither bottom width nor side slopes");
      return null;
    }
    return { shape: "trapezoidal", width: top * toMetres, height };
  }
  if (WIDTH_FROM_GEOM2.has(shape)) {
    if (g2 === null || g2 <= 0) {
      // Ellipse and arch pipes may name a standard size code instead of their width.
      const standard = shape === "HORIZ_ELLIPSE" || shape === "VERT_ELLIPSE" || shape === "ARCH";
      if (standard) r.warn("Geom2", `${shape} by standard size code is not supported: section left empty`);
      else r.fail("Geom2", `${shape} cross-section needs a positive Geom2 (width)`);
      return null;
    }
    return { shape: SECTION_ENUM[shape] ?? "other", width: g2 * toMetres, height };
  }
  r.warn("Shape", `unknown cross-section shape "${shape}": section left empty`);
  return null;
}
