/**
 * Binary-layout checks of EXT_structural_metadata property tables, read straight from the GLB chunks:
 * alignment, offset buffers, column sizes. loaders.gl silently copies misaligned columns and silently drops
 * strings whose offsets overflow, so these rules are checked here. Also decodes BOOLEAN columns, which
 * loaders.gl 4.5 cannot decode (it throws "Not implemented - classProperty.type=BOOLEAN").
 */
import type { GlbParts } from "./glb-container.ts";

type Json = Record<string, unknown>;

const COMPONENT_SIZE: Record<string, number> = {
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  UINT16: 2,
  INT32: 4,
  UINT32: 4,
  INT64: 8,
  UINT64: 8,
  FLOAT32: 4,
  FLOAT64: 8,
};

const TYPE_COMPONENTS: Record<string, number> = {
  SCALAR: 1,
  VEC2: 2,
  VEC3: 3,
  VEC4: 4,
  MAT2: 4,
  MAT3: 9,
  MAT4: 16,
};

export interface TableBinaryResult {
  errors: string[];
  /** tableIndex -> property name -> decoded booleans (one per row). */
  booleans: Map<number, Map<string, boolean[]>>;
}

function asObject(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function bufferViewBytes(glb: GlbParts, index: unknown): { bytes: Uint8Array; byteOffset: number } | string {
  const views = glb.json.bufferViews as Json[] | undefined;
  const view = typeof index === "number" ? views?.[index] : undefined;
  if (!view) return `bufferView ${String(index)} does not exist`;
  const buffers = glb.json.buffers as Json[] | undefined;
  const buffer = buffers?.[view.buffer as number];
  if (!buffer || buffer.uri !== undefined || !glb.bin)
    return `bufferView ${index} is not in the GLB BIN chunk (external buffers are not supported by the checker)`;
  const byteOffset = (view.byteOffset as number | undefined) ?? 0;
  const byteLength = view.byteLength as number;
  if (byteOffset + byteLength > glb.bin.byteLength)
    return `bufferView ${index} runs past the end of the BIN chunk`;
  return { bytes: glb.bin.subarray(byteOffset, byteOffset + byteLength), byteOffset };
}

function readOffsets(bytes: Uint8Array, type: string, n: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = COMPONENT_SIZE[type];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * size;
    out.push(
      size === 1
        ? view.getUint8(at)
        : size === 2
          ? view.getUint16(at, true)
          : size === 4
            ? view.getUint32(at, true)
            : Number(view.getBigUint64(at, true)),
    );
  }
  return out;
}

export function checkPropertyTables(glb: GlbParts, uri: string): TableBinaryResult {
  const result: TableBinaryResult = { errors: [], booleans: new Map() };
  const ext = asObject(asObject(glb.json.extensions)?.EXT_structural_metadata);
  if (!ext) return result;
  const classes = asObject(asObject(ext.schema)?.classes) ?? {};
  if (ext.schemaUri !== undefined)
    result.errors.push(`${uri}: external schemaUri is not supported by the checker`);
  const tables = Array.isArray(ext.propertyTables) ? (ext.propertyTables as Json[]) : [];

  tables.forEach((table, t) => {
    const where = `${uri}: propertyTables[${t}]`;
    const cls = asObject(classes[table.class as string]);
    if (!cls) {
      result.errors.push(`${where}: class ${JSON.stringify(table.class)} is not in the schema`);
      return;
    }
    const count = table.count as number;
    if (!Number.isInteger(count) || count < 1) result.errors.push(`${where}: count must be an integer >= 1`);
    const classProps = asObject(cls.properties) ?? {};
    const tableProps = asObject(table.properties) ?? {};
    for (const [name, rawProp] of Object.entries(tableProps)) {
      const at = `${where}.properties.${name}`;
      const def = asObject(classProps[name]);
      const prop = asObject(rawProp);
      if (!def || !prop) {
        result.errors.push(`${at}: not defined in class ${String(table.class)}`);
        continue;
      }
      const values = bufferViewBytes(glb, prop.values);
      if (typeof values === "string") {
        result.errors.push(`${at}: values ${values}`);
        continue;
      }
      const type = def.type as string;
      const componentType = def.componentType as string | undefined;
      const isArray = def.array === true;
      const fixedCount = isArray ? (def.count as number | undefined) : 1;

      const offsetsOf = (key: "stringOffsets" | "arrayOffsets"): number[] | undefined => {
        const offsetType =
          (prop[`${key.replace("Offsets", "")}OffsetType`] as string | undefined) ?? "UINT32";
        const view = bufferViewBytes(glb, prop[key]);
        if (typeof view === "string") {
          result.errors.push(`${at}: ${key} ${view}`);
          return undefined;
        }
        const size = COMPONENT_SIZE[offsetType];
        if (view.byteOffset % size !== 0)
          result.errors.push(
            `${at}: ${key} bufferView byteOffset ${view.byteOffset} is not a multiple of ${size} (${offsetType})`,
          );
        if (view.bytes.byteLength !== (count + 1) * size) {
          result.errors.push(`${at}: ${key} byteLength ${view.bytes.byteLength} != (count + 1) * ${size}`);
          return undefined;
        }
        const offsets = readOffsets(view.bytes, offsetType, count + 1);
        for (let i = 0; i < count; i++)
          if (offsets[i] > offsets[i + 1]) {
            result.errors.push(`${at}: ${key} are not ascending at row ${i}`);
            return undefined;
          }
        return offsets;
      };

      if (type === "STRING") {
        if (isArray) continue;
        const offsets = offsetsOf("stringOffsets");
        if (offsets && offsets[count] > values.bytes.byteLength)
          result.errors.push(
            `${at}: last string offset ${offsets[count]} > values byteLength ${values.bytes.byteLength}`,
          );
        continue;
      }
      if (isArray && fixedCount === undefined) {
        offsetsOf("arrayOffsets");
        continue;
      }
      if (type === "BOOLEAN") {
        const bits = count * (fixedCount ?? 1);
        if (values.bytes.byteLength < Math.ceil(bits / 8)) {
          result.errors.push(
            `${at}: BOOLEAN values need ${Math.ceil(bits / 8)} bytes, bufferView has ${values.bytes.byteLength}`,
          );
          continue;
        }
        if (!isArray) {
          const decoded: boolean[] = [];
          for (let i = 0; i < count; i++) decoded.push(((values.bytes[i >> 3] >> (i & 7)) & 1) === 1);
          if (!result.booleans.has(t)) result.booleans.set(t, new Map());
          result.booleans.get(t)?.set(name, decoded);
        }
        continue;
      }
      const sizeType = type === "ENUM" ? "UINT16" : componentType;
      const size = sizeType ? COMPONENT_SIZE[sizeType] : undefined;
      if (type !== "ENUM" && (!size || !TYPE_COMPONENTS[type])) {
        result.errors.push(`${at}: unsupported type ${type}/${String(componentType)}`);
        continue;
      }
      if (type === "ENUM") continue; // enum valueType lives in the schema enum; its alignment is not checked here.
      if (values.byteOffset % (size as number) !== 0)
        result.errors.push(
          `${at}: values bufferView byteOffset ${values.byteOffset} is not a multiple of ${size} (${componentType}), ` +
            "as EXT_structural_metadata requires",
        );
      const needed = count * (fixedCount ?? 1) * TYPE_COMPONENTS[type] * (size as number);
      if (values.bytes.byteLength < needed)
        result.errors.push(
          `${at}: values byteLength ${values.bytes.byteLength} < ${needed} needed for ${count} rows`,
        );
    }
  });
  return result;
}

/** Copy of the glTF JSON without BOOLEAN columns, so loaders.gl can decode everything else. */
export function withoutBooleanColumns(json: Json): { json: Json; removed: string[] } {
  const copy = structuredClone(json);
  const removed: string[] = [];
  const ext = asObject(asObject(copy.extensions)?.EXT_structural_metadata);
  const classes = asObject(asObject(ext?.schema)?.classes) ?? {};
  const tables = Array.isArray(ext?.propertyTables) ? (ext.propertyTables as Json[]) : [];
  for (const table of tables) {
    const classProps = asObject(asObject(classes[table.class as string])?.properties) ?? {};
    const props = asObject(table.properties) ?? {};
    for (const name of Object.keys(props)) {
      if (asObject(classProps[name])?.type === "BOOLEAN") {
        delete props[name];
        removed.push(name);
      }
    }
  }
  return { json: copy, removed };
}
