import type { Cesium3DTile, Cesium3DTileFeature, Cesium3DTileset } from "cesium";

interface SchemaLike {
  classes?: Record<string, { properties?: Record<string, { id?: string; name?: string }> }>;
}

const namesCache = new WeakMap<Cesium3DTileset, Map<string, string>>();

/**
 * Display names of the tileset's metadata properties by property id, from the schema at the top
 * of tileset.json (3D Tiles 1.1; CesiumJS exposes it as `tileset.schema`, not in its typings).
 * The BIM ingest keeps the original dotted name there, e.g. "Pset_WallCommon.IsExternal".
 */
export function propertyNames(tileset: Cesium3DTileset): Map<string, string> {
  let names = namesCache.get(tileset);
  if (names) return names;
  names = new Map();
  const schema = (tileset as unknown as { schema?: SchemaLike }).schema;
  for (const cls of Object.values(schema?.classes ?? {})) {
    for (const [id, prop] of Object.entries(cls.properties ?? {})) {
      if (prop.name && !names.has(id)) names.set(id, prop.name);
    }
  }
  namesCache.set(tileset, names);
  return names;
}

/** Every feature of the tileset's loaded tiles. */
export function* loadedFeatures(tileset: Cesium3DTileset): Generator<Cesium3DTileFeature> {
  const stack: Cesium3DTile[] = tileset.root ? [tileset.root] : [];
  while (stack.length) {
    const tile = stack.pop()!;
    stack.push(...tile.children);
    const content = tile.content;
    const n = content?.featuresLength ?? 0;
    for (let i = 0; i < n; i++) {
      const feature = content.getFeature(i);
      if (feature) yield feature;
    }
  }
}

/** The loaded feature with this GlobalId, if its tile is loaded. */
export function featureByGlobalId(
  tileset: Cesium3DTileset,
  globalId: string,
): Cesium3DTileFeature | undefined {
  for (const f of loadedFeatures(tileset)) if (f.getProperty("GlobalId") === globalId) return f;
  return undefined;
}
