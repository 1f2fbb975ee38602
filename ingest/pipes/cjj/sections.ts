import type { Section } from "../../../models/pipes.ts";

/**
 * Cross-sections from 管径 / 断面尺寸 cells. CJJ 61 records sizes in millimetres: "300", "DN300", "Φ300", "De110",
 * "d300mm" are circular; "1000x800" / "1000×800" / "1000*800" (width × height) are rectangular (closed box or duct
 * bank). An explicit unit ("0.3m", "30cm") is honoured.
 */

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const UNIT = String.raw`\s*(mm|cm|m|毫米|厘米|米)?`;
const CIRCULAR = new RegExp(String.raw`^(?:DN|DE|D|Φ|φ|Ø|ø|∅)?\s*${NUMBER}${UNIT}$`, "i");
const RECT = new RegExp(
  String.raw`^(?:B\s*[x×*X]\s*H\s*=?\s*)?${NUMBER}${UNIT}\s*[x×*X✕╳]\s*${NUMBER}${UNIT}$`,
  "i",
);

function metres(value: string, unit: string | undefined): number {
  const v = Number(value);
  switch (unit?.toLowerCase()) {
    case "m":
    case "米":
      return v;
    case "cm":
    case "厘米":
      return v / 100;
    default:
      return v / 1000;
  }
}

/** Result: a section, null for an empty cell, or an error text for an unreadable / non-positive size. */
export function parseSection(text: string | null): Section | null | { error: string } {
  if (text === null) return null;
  const t = text
    .trim()
    .replace(/[０-９．]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\s+/g, " ");
  if (!t) return null;
  const rect = RECT.exec(t);
  if (rect) {
    const unit = rect[4] ?? rect[2];
    const width = metres(rect[1], rect[2] ?? unit);
    const height = metres(rect[3], unit);
    if (!(width > 0 && height > 0)) return { error: `section "${text}" has a zero size` };
    return { shape: "rect_closed", width, height };
  }
  const circ = CIRCULAR.exec(t);
  if (circ) {
    const diameter = metres(circ[1], circ[2]);
    if (!(diameter > 0)) return { error: `diameter "${text}" is zero` };
    return { shape: "circular", diameter };
  }
  return { error: `cannot read the size "${text}" (expected e.g. 300, DN300 or 1000x800 in mm)` };
}

/** Vertical size of a section (diameter or height), metres. */
export function sectionHeight(section: Section): number {
  return section.shape === "circular" ? section.diameter : section.height;
}
