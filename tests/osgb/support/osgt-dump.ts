/**
 * Reads the numbers the tests compare from an OpenSceneGraph ASCII dump (.osgt written by `osgconv x.osgb x.osgt`):
 * what OpenSceneGraph itself decoded from the binary file.
 */

export interface OsgtBlock {
  head: string;
  lines: string[];
  children: OsgtBlock[];
}

export function parseOsgt(text: string): OsgtBlock {
  const root: OsgtBlock = { head: "", lines: [], children: [] };
  const stack = [root];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const top = stack[stack.length - 1];
    if (line === "}" || line.endsWith('" }')) {
      // Image data blocks end with the closing quote and brace on one line.
      if (line !== "}") top.lines.push(line.slice(0, -2));
      if (stack.length > 1) stack.pop();
    } else if (line.endsWith("{")) {
      const block: OsgtBlock = { head: line.slice(0, -1).trim(), lines: [], children: [] };
      top.children.push(block);
      stack.push(block);
    } else {
      top.lines.push(line);
    }
  }
  return root;
}

function prop(b: OsgtBlock, key: string): string[] | undefined {
  const l = b.lines.find((x) => x === key || x.startsWith(`${key} `));
  return l?.split(/\s+/).slice(1);
}

function child(b: OsgtBlock, prefix: string): OsgtBlock | undefined {
  return b.children.find((c) => c.head === prefix || c.head.startsWith(`${prefix} `));
}

export interface DumpedGeometry {
  vertexCount: number;
  min: [number, number, number];
  max: [number, number, number];
  primitives: { type: string; mode: string; count: number; first?: number }[];
  texCoordCounts: number[];
  normalCount: number;
  colorCount: number;
  /** OSG's decoded image size per texture unit (from `Size s t r`, present when dumped with IncludeData). */
  images: { fileName: string; width?: number; height?: number }[];
}

export interface DumpedLod {
  className: string;
  center: number[];
  ranges: [number, number][];
  fileNames: string[];
}

export interface OsgtSummary {
  geometries: DumpedGeometry[];
  lods: DumpedLod[];
  /** Class names of every object block, in document order. */
  classes: string[];
}

function arrayBlock(b: OsgtBlock | undefined): OsgtBlock | undefined {
  return b?.children.find((c) => c.head.startsWith("osg::"));
}

function vectorOf(b: OsgtBlock | undefined): { count: number; values: number[] } {
  const v = b && child(b, "vector");
  if (!v) return { count: 0, values: [] };
  return {
    count: Number(v.head.split(/\s+/)[1]),
    values: v.lines.flatMap((l) => l.split(/\s+/).map(Number)),
  };
}

export function summarizeOsgt(text: string): OsgtSummary {
  const out: OsgtSummary = { geometries: [], lods: [], classes: [] };
  const visit = (b: OsgtBlock) => {
    if (/^osg::\w+$/.test(b.head)) out.classes.push(b.head);
    if (b.head === "osg::PagedLOD" || b.head === "osg::LOD") {
      const rl = child(b, "RangeList");
      const rd = child(b, "RangeDataList");
      out.lods.push({
        className: b.head,
        center: (prop(b, "UserCenter") ?? []).map(Number),
        ranges: (rl?.lines ?? []).map((l) => l.split(/\s+/).map(Number) as [number, number]),
        fileNames: (rd?.lines ?? []).map((l) => JSON.parse(l)),
      });
    }
    if (b.head === "osg::Geometry") {
      const verts = vectorOf(arrayBlock(child(b, "VertexArray")));
      const min: [number, number, number] = [Infinity, Infinity, Infinity];
      const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
      for (let i = 0; i + 2 < verts.values.length; i += 3) {
        for (let k = 0; k < 3; k++) {
          min[k] = Math.min(min[k], verts.values[i + k]);
          max[k] = Math.max(max[k], verts.values[i + k]);
        }
      }
      const primitives = (child(b, "PrimitiveSetList")?.children ?? []).map((p) => {
        const type = p.head.replace("osg::", "");
        // OSG omits properties equal to their default: Mode's default GL_NONE is 0, i.e. POINTS.
        const mode = prop(p, "Mode")?.[0] ?? "POINTS";
        if (type === "DrawArrays") {
          return {
            type,
            mode,
            count: Number(prop(p, "Count")?.[0] ?? 0),
            first: Number(prop(p, "First")?.[0] ?? 0),
          };
        }
        return { type, mode, count: vectorOf(p).count };
      });
      const texCoordCounts = (child(b, "TexCoordArrayList")?.children ?? []).map((a) => vectorOf(a).count);
      const images: DumpedGeometry["images"] = [];
      const ss = arrayBlock(child(b, "StateSet"));
      const tal = ss && child(ss, "TextureAttributeList");
      for (const data of tal?.children ?? []) {
        for (const tex of data.children) {
          const img = child(tex, "Image");
          if (!img) continue;
          const size = prop(img, "Size");
          images.push({
            fileName: JSON.parse(prop(img, "FileName")?.join(" ") ?? '""'),
            width: size ? Number(size[0]) : undefined,
            height: size ? Number(size[1]) : undefined,
          });
        }
      }
      out.geometries.push({
        vertexCount: verts.count,
        min,
        max,
        primitives,
        texCoordCounts,
        normalCount: vectorOf(arrayBlock(child(b, "NormalArray"))).count,
        colorCount: vectorOf(arrayBlock(child(b, "ColorArray"))).count,
        images,
      });
    }
    for (const c of b.children) visit(c);
  };
  visit(parseOsgt(text));
  return out;
}
