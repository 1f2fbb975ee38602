import type { PreEncodedRows } from "../../tiles3d/feature-glb.ts";
import { columnValue, type PropertyDef, type PropertySchemaBuilder } from "../../tiles3d/property-schema.ts";
import type { EncodedColumn } from "../../tiles3d/property-table-encoding.ts";

type Column =
  | { kind: "FLOAT64"; values: Float64Array }
  | { kind: "INT32"; values: Int32Array }
  | { kind: "BOOLEAN"; values: Uint8Array }
  | { kind: "STRING"; bytes: Uint8Array; offsets: Float64Array };

const utf8 = new TextEncoder();

/** Raw values by source attribute name, one slot per feature. */
export type RawColumns = Map<string, unknown[]>;

/**
 * Every feature's property values encoded once, column by column, in the EXT_structural_metadata binary layouts; a
 * tile's property table is gathered from it by feature index. With levels of detail a link is written to several
 * tiles, and encoding the same values per tile from per-feature records dominated the ingest; holding columns also
 * lets the records themselves be dropped early.
 */
export class PropertyColumns {
  private readonly columns = new Map<string, Column>();

  /**
   * Reads every record once (`record(i)` may build it on the fly), feeding `schema` on the way; encode with
   * {@link encode} once the schema is built.
   */
  static collect(
    count: number,
    record: (i: number) => Record<string, unknown>,
    schema: PropertySchemaBuilder,
  ): RawColumns {
    // One pass over each record's own keys: a keyed lookup per column on records of mixed shapes was slower.
    const values: RawColumns = new Map();
    for (let i = 0; i < count; i++) {
      const rec = record(i);
      schema.observe(rec);
      for (const key in rec) {
        let column = values.get(key);
        if (!column) {
          column = new Array<unknown>(count);
          values.set(key, column);
        }
        column[i] = rec[key];
      }
    }
    return values;
  }

  constructor(defs: readonly PropertyDef[], values: RawColumns) {
    const count = values.values().next().value?.length ?? 0;
    for (const def of defs) {
      const raw = values.get(def.sourceName) ?? new Array<unknown>(count);
      values.delete(def.sourceName);
      switch (def.kind) {
        case "FLOAT64":
        case "INT32": {
          const out = def.kind === "FLOAT64" ? new Float64Array(count) : new Int32Array(count);
          for (let i = 0; i < count; i++) out[i] = columnValue(def, raw[i]) as number;
          this.columns.set(def.id, { kind: def.kind, values: out } as Column);
          break;
        }
        case "BOOLEAN": {
          const out = new Uint8Array(count);
          for (let i = 0; i < count; i++) out[i] = columnValue(def, raw[i]) ? 1 : 0;
          this.columns.set(def.id, { kind: "BOOLEAN", values: out });
          break;
        }
        case "STRING": {
          const strings = new Array<string>(count);
          const offsets = new Float64Array(count + 1);
          let total = 0;
          for (let i = 0; i < count; i++) {
            const s = columnValue(def, raw[i]) as string;
            strings[i] = s;
            total += Buffer.byteLength(s, "utf8");
            offsets[i + 1] = total;
          }
          const bytes = new Uint8Array(total);
          const { written } = utf8.encodeInto(strings.join(""), bytes);
          if (written !== total) {
            // A lone surrogate ending one value paired with the next one's: encode value by value.
            let at = 0;
            for (const s of strings) at += utf8.encodeInto(s, bytes.subarray(at)).written;
          }
          this.columns.set(def.id, { kind: "STRING", bytes, offsets });
          break;
        }
      }
    }
  }

  /** The property table rows of a tile drawing features `ids` (feature id k is ids[k]). */
  rows(ids: readonly number[]): PreEncodedRows {
    return { count: ids.length, column: (def) => this.gather(def, ids) };
  }

  private gather(def: PropertyDef, ids: readonly number[]): EncodedColumn {
    const c = this.columns.get(def.id);
    if (!c) throw new Error(`no column ${def.id}`);
    const n = ids.length;
    switch (c.kind) {
      case "FLOAT64":
      case "INT32": {
        const out = c.kind === "FLOAT64" ? new Float64Array(n) : new Int32Array(n);
        for (let k = 0; k < n; k++) out[k] = c.values[ids[k]];
        return { values: new Uint8Array(out.buffer) };
      }
      case "BOOLEAN": {
        const out = new Uint8Array(Math.ceil(n / 8));
        for (let k = 0; k < n; k++) if (c.values[ids[k]]) out[k >> 3] |= 1 << (k & 7);
        return { values: out };
      }
      case "STRING": {
        const offsets = new Uint32Array(n + 1);
        let total = 0;
        for (let k = 0; k < n; k++) {
          total += c.offsets[ids[k] + 1] - c.offsets[ids[k]];
          offsets[k + 1] = total;
        }
        const values = new Uint8Array(total);
        const bytes = c.bytes;
        for (let k = 0; k < n; k++) {
          const id = ids[k];
          // A byte loop: most values are a few bytes, where a subarray + set per value costs more than the copy.
          let at = offsets[k];
          for (let p = c.offsets[id], end = c.offsets[id + 1]; p < end; p++) values[at++] = bytes[p];
        }
        return { values, stringOffsets: new Uint8Array(offsets.buffer) };
      }
    }
  }
}
