import { columnValue, NO_DATA, type PropertyDef } from "./property-schema.ts";

/** Binary column of an EXT_structural_metadata property table. */
export interface EncodedColumn {
  values: Uint8Array;
  stringOffsets?: Uint8Array;
}

const utf8 = new TextEncoder();

/** Encodes one column for rows in order; layouts follow the EXT_structural_metadata binary table format. */
export function encodeColumn(def: PropertyDef, rows: ReadonlyArray<Record<string, unknown>>): EncodedColumn {
  const n = rows.length;
  switch (def.kind) {
    case "FLOAT64": {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = columnValue(def, rows[i][def.sourceName]) as number;
      return { values: new Uint8Array(a.buffer) };
    }
    case "INT32": {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = columnValue(def, rows[i][def.sourceName]) as number;
      return { values: new Uint8Array(a.buffer) };
    }
    case "BOOLEAN": {
      const a = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++) if (columnValue(def, rows[i][def.sourceName])) a[i >> 3] |= 1 << (i & 7);
      return { values: a };
    }
    case "STRING": {
      const parts: Uint8Array[] = [];
      const offsets = new Uint32Array(n + 1);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const bytes = utf8.encode(columnValue(def, rows[i][def.sourceName]) as string);
        parts.push(bytes);
        total += bytes.length;
        offsets[i + 1] = total;
      }
      const values = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        values.set(p, at);
        at += p.length;
      }
      return { values, stringOffsets: new Uint8Array(offsets.buffer) };
    }
  }
}

export function noDataFor(def: PropertyDef): string | number | undefined {
  if (!def.optional || def.kind === "BOOLEAN") return undefined;
  return NO_DATA[def.kind];
}
