import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import ExcelJS from "exceljs";
import iconv from "iconv-lite";
import type { ImportIssue } from "../../../models/pipes.ts";
import { detectDelimiter, parseCsv } from "./csv.ts";

/**
 * Loads one survey table file (CSV / TSV text or XLSX workbook) into rows of cell strings, numbered as a
 * spreadsheet shows them: row 1 is the first line / first worksheet row (the header, or a title above it).
 */

/** A table file: a path, or in-memory content with a name (used in issues and for the format). */
export type TableInput = string | { name: string; data: Uint8Array | string };

export interface RawRow {
  /** 1-based row number as a spreadsheet shows it (CSV: record number; XLSX: worksheet row number). */
  row: number;
  /** Cell texts; null for empty cells. */
  cells: (string | null)[];
}

/** One table: a CSV file or one worksheet ("file.xlsx#Sheet1" when the workbook has several). */
export interface RawSheet {
  file: string;
  rows: RawRow[];
}

export interface LoadedTables {
  sheets: RawSheet[];
  issues: ImportIssue[];
}

export type TextEncodingName = "utf-8" | "utf-16le" | "utf-16be" | "gb18030";

/**
 * Decodes a text table: a byte-order mark decides (UTF-8 / UTF-16); else bytes that are valid UTF-8 are UTF-8;
 * else GBK, read as its superset GB18030 (what Excel and survey software on Chinese Windows write).
 */
export function decodeTableBytes(bytes: Uint8Array): {
  text: string;
  encoding: TextEncodingName;
  bom: boolean;
} {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder("utf-8").decode(bytes.subarray(3)), encoding: "utf-8", bom: true };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "utf-16le", bom: true };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), encoding: "utf-16be", bom: true };
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf-8", bom: false };
  } catch {
    return { text: iconv.decode(Buffer.from(bytes), "gb18030"), encoding: "gb18030", bom: false };
  }
}

function isXlsx(name: string, bytes: Uint8Array | null): boolean {
  if (/\.(xlsx|xlsm)$/i.test(name)) return true;
  // A ZIP container (local file header "PK\3\4") is an OOXML workbook for our purposes.
  return !!bytes && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export async function loadTableInput(input: TableInput): Promise<LoadedTables> {
  const name = typeof input === "string" ? basename(input) : input.name;
  let data: Uint8Array | string;
  if (typeof input === "string") data = await readFile(input);
  else data = input.data;
  if (typeof data === "string") return { sheets: [textSheet(name, data)], issues: [] };
  if (
    /\.xls$/i.test(name) ||
    (data[0] === 0xd0 && data[1] === 0xcf && data[2] === 0x11 && data[3] === 0xe0)
  ) {
    throw new Error(`${name}: legacy Excel 97-2003 (.xls) is not supported; save it as .xlsx or CSV`);
  }
  if (isXlsx(name, data)) return { sheets: await xlsxSheets(name, data), issues: [] };
  const issues: ImportIssue[] = [];
  const decoded = decodeTableBytes(data);
  if (decoded.encoding === "gb18030") {
    const bad = (decoded.text.match(/\uFFFD/g) ?? []).length;
    issues.push({
      file: name,
      row: null,
      column: null,
      problem:
        bad > 0
          ? `neither valid UTF-8 nor GBK: decoded as GBK with ${bad} undecodable character(s) shown as U+FFFD`
          : "not valid UTF-8: decoded as GBK (GB18030)",
      severity: "warning",
    });
  }
  return { sheets: [textSheet(name, decoded.text)], issues };
}

function textSheet(file: string, text: string): RawSheet {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const delimiter = /\.tsv$/i.test(file) ? "\t" : detectDelimiter(body);
  const rows = parseCsv(body, delimiter).map((fields, i) => ({
    row: i + 1,
    cells: fields.map((f) => (f.trim() === "" ? null : f)),
  }));
  return { file, rows };
}

async function xlsxSheets(name: string, data: Uint8Array): Promise<RawSheet[]> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(data.buffer, data.byteOffset, data.byteLength) as never);
  } catch (err) {
    throw new Error(`${name}: cannot read the XLSX workbook: ${(err as Error).message}`);
  }
  const sheets: RawSheet[] = [];
  const several = workbook.worksheets.length > 1;
  for (const ws of workbook.worksheets) {
    const rows: RawRow[] = [];
    ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
      const cells: (string | null)[] = [];
      row.eachCell({ includeEmpty: true }, (cell, col) => {
        cells[col - 1] = cellText(cell.value);
      });
      for (let i = 0; i < cells.length; i++) if (cells[i] === undefined) cells[i] = null;
      rows.push({ row: rowNumber, cells });
    });
    sheets.push({ file: several ? `${name}#${ws.name}` : name, rows });
  }
  return sheets;
}

/** The text of an exceljs cell value: numbers in shortest round-trip form, dates as ISO dates, formulas' results. */
export function cellText(value: ExcelJS.CellValue): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : null;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.replace(".000Z", "Z");
  }
  if (typeof value === "object") {
    if ("richText" in value && Array.isArray(value.richText)) {
      return cellText(value.richText.map((r) => r.text).join(""));
    }
    if ("formula" in value || "sharedFormula" in value) {
      return cellText((value as { result?: ExcelJS.CellValue }).result ?? null);
    }
    if ("text" in value && "hyperlink" in value) return cellText(value.text as ExcelJS.CellValue);
    if ("error" in value) return String((value as { error: unknown }).error);
  }
  return String(value);
}
