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
      // One encodeInto over the joined column instead of a TextEncoder.encode (and an allocation) per value:
      // the per-value calls dominated writing tiles with many small features.
      const strings = new Array<string>(n);
      const offsets = new Uint32Array(n + 1);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const v = columnValue(def, rows[i][def.sourceName]) as string;
        strings[i] = v;
        total += Buffer.byteLength(v, "utf8");
        offsets[i + 1] = total;
      }
      const values = new Uint8Array(total);
      const { written } = utf8.encodeInto(strings.join(""), values);
      // A lone surrogate at the end of one value could pair with the next value's: encode one by one then.
      if (written !== total) return encodeStringsOneByOne(strings, offsets);
      return { values, stringOffsets: new Uint8Array(offsets.buffer) };
    }
  }
}

function encodeStringsOneByOne(strings: string[], offsets: Uint32Array): EncodedColumn {
  const parts = strings.map((v) => utf8.encode(v));
  let total = 0;
  parts.forEach((bytes, i) => {
    total += bytes.length;
    offsets[i + 1] = total;
  });
  const values = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    values.set(p, at);
    at += p.length;
  }
  return { values, stringOffsets: new Uint8Array(offsets.buffer) };
}

export function noDataFor(def: PropertyDef): string | number | undefined {
  if (!def.optional || def.kind === "BOOLEAN") return undefined;
  return NO_DATA[def.kind];
}
