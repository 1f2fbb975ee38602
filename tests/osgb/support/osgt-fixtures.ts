import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";

/**
 * Writes OpenSceneGraph ASCII scenes (.osgt) for the OSGB reader's tests and benchmark; `osgconv` turns them into
 * real .osgb files, so the binary fixtures come from OpenSceneGraph itself and are never committed.
 * Property order inside each object follows OSG's serializer order (Object, Node, Group/LOD/PagedLOD, ...): the
 * .osgt reader silently drops properties written out of order.
 */

const run = promisify(execFile);

export function hasOsgconv(): boolean {
  // osgconv exits 1 even for --help, so only "not found" counts as absent.
  const r = spawnSync("osgconv", ["--help"], { stdio: "ignore" });
  return !(r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT");
}

/** Run osgconv in `cwd` (relative image file names resolve there) with OSG's optimizer off (keeps our structure). */
export async function osgconv(cwd: string, args: string[]): Promise<void> {
  await run("osgconv", args, {
    cwd,
    env: { ...process.env, OSG_OPTIMIZER: "OFF", OSG_NOTIFY_LEVEL: "WARN" },
    maxBuffer: 1 << 26,
  });
}

export interface GeometrySpec {
  /** Grid of nx * ny vertices spanning `size` metres at `origin`, z rising along x by `slope`. */
  nx: number;
  ny: number;
  origin: [number, number, number];
  size: number;
  slope?: number;
  /** Which primitive sets to emit over the grid's quads. */
  ushortTriangles?: boolean;
  uintTriangles?: boolean;
  uintStrip?: boolean;
  drawArraysPoints?: boolean;
  /** osg::DrawArrayLengths: one LINE_STRIP per grid row. */
  rowStrips?: boolean;
  normals?: boolean;
  texCoords?: boolean;
  /** Per-vertex colours: Vec4Array (true) or Vec4ubArray ("ubyte"). */
  colors?: boolean | "ubyte";
  material?: [number, number, number, number];
  /** Image file name (relative to the osgconv working directory). */
  texture?: string;
}

export interface TileSpec {
  kind: "pagedLod" | "group";
  name?: string;
  center?: [number, number, number];
  radius?: number;
  ranges?: [number, number][];
  /** One per range: "" = child in this file, else the child file name. */
  fileNames?: string[];
  geometries: GeometrySpec[];
  /** Wrap the geode in an osg::MatrixTransform translating by this offset. */
  translate?: [number, number, number];
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(9);
}

function quads(spec: GeometrySpec): number[][] {
  const out: number[][] = [];
  for (let j = 0; j + 1 < spec.ny; j++) {
    for (let i = 0; i + 1 < spec.nx; i++) {
      const a = j * spec.nx + i;
      out.push([a, a + 1, a + spec.nx + 1, a + spec.nx]);
    }
  }
  return out;
}

function vector(lines: string[], count: number, indent: string): string {
  return `${indent}vector ${count} {\n${lines.map((l) => `${indent}  ${l}\n`).join("")}${indent}}\n`;
}

export function tileOsgt(spec: TileSpec): string {
  let uid = 0;
  const id = () => `UniqueID ${++uid}`;
  const geom = (g: GeometrySpec, ind: string): string => {
    const i2 = `${ind}  `;
    const i3 = `${ind}    `;
    const verts: string[] = [];
    const normals: string[] = [];
    const tcs: string[] = [];
    const colors: string[] = [];
    const step = g.size / Math.max(1, Math.max(g.nx, g.ny) - 1);
    for (let j = 0; j < g.ny; j++) {
      for (let i = 0; i < g.nx; i++) {
        const x = g.origin[0] + i * step;
        const y = g.origin[1] + j * step;
        const z = g.origin[2] + (g.slope ?? 0.1) * i * step + 0.01 * ((i * 7 + j * 3) % 5);
        verts.push(`${fmt(x)} ${fmt(y)} ${fmt(z)}`);
        normals.push("0 0 1");
        tcs.push(`${fmt(i / Math.max(1, g.nx - 1))} ${fmt(j / Math.max(1, g.ny - 1))}`);
        colors.push(
          g.colors === "ubyte"
            ? `${Math.round((255 * i) / g.nx)} ${Math.round((255 * j) / g.ny)} 128 255`
            : `${fmt(i / g.nx)} ${fmt(j / g.ny)} 0.5 1`,
        );
      }
    }
    const q = quads(g);
    const tri = q.flatMap(([a, b, c, d]) => [a, b, c, a, c, d]);
    const half = Math.floor(q.length / 2) * 6;
    const prims: string[] = [];
    const elements = (cls: string, mode: string, idx: number[]) =>
      `${i3}${cls} {\n${i3}  ${id()}\n${i3}  Mode ${mode}\n${vector(
        chunk(idx, 12).map((c) => c.join(" ")),
        idx.length,
        `${i3}  `,
      )}${i3}}\n`;
    if (g.ushortTriangles)
      prims.push(elements("osg::DrawElementsUShort", "TRIANGLES", tri.slice(0, half || tri.length)));
    if (g.uintTriangles) prims.push(elements("osg::DrawElementsUInt", "TRIANGLES", tri.slice(half)));
    if (g.uintStrip) {
      const strip: number[] = [];
      for (let i = 0; i < g.nx; i++) strip.push(i + g.nx, i);
      prims.push(elements("osg::DrawElementsUInt", "TRIANGLE_STRIP", strip));
    }
    if (g.drawArraysPoints) {
      prims.push(
        `${i3}osg::DrawArrays {\n${i3}  ${id()}\n${i3}  Mode POINTS\n${i3}  First 1\n${i3}  Count ${g.nx * g.ny - 1}\n${i3}}\n`,
      );
    }
    if (g.rowStrips) {
      const lengths = Array.from({ length: g.ny }, () => g.nx);
      prims.push(
        `${i3}osg::DrawArrayLengths {\n${i3}  ${id()}\n${i3}  Mode LINE_STRIP\n${vector([lengths.join(" ")], g.ny, `${i3}  `)}${i3}}\n`,
      );
    }
    const array = (prop: string, cls: string, lines: string[]) =>
      `${i2}${prop} TRUE {\n${i3}${cls} {\n${i3}  ${id()}\n${i3}  Binding BIND_PER_VERTEX\n${vector(lines, lines.length, `${i3}  `)}${i3}}\n${i2}}\n`;
    let state = "";
    if (g.material || g.texture) {
      const i4 = `${ind}      `;
      const i5 = `${ind}        `;
      state += `${i2}StateSet TRUE {\n${i3}osg::StateSet {\n${i4}${id()}\n`;
      if (g.material) {
        const c = g.material.map(fmt).join(" ");
        state += `${i4}AttributeList 1 {\n${i5}osg::Material {\n${i5}  ${id()}\n${i5}  Diffuse TRUE Front ${c} Back ${c}\n${i5}}\n${i5}Value OFF\n${i4}}\n`;
      }
      if (g.texture) {
        state += `${i4}TextureModeList 1 {\n${i5}Data 1 {\n${i5}  GL_TEXTURE_2D ON\n${i5}}\n${i4}}\n`;
        state += `${i4}TextureAttributeList 1 {\n${i5}Data 1 {\n${i5}  osg::Texture2D {\n${i5}    ${id()}\n${i5}    WRAP_S CLAMP_TO_EDGE\n${i5}    WRAP_T CLAMP_TO_EDGE\n${i5}    Image TRUE {\n${i5}      ClassName osg::Image\n${i5}      ${id()}\n${i5}      FileName "${g.texture}"\n${i5}      WriteHint 0 2\n${i5}    }\n${i5}  }\n${i5}  Value OFF\n${i5}}\n${i4}}\n`;
      }
      state += `${i3}}\n${i2}}\n`;
    }
    let body = `${ind}osg::Geometry {\n${i2}${id()}\n${state}`;
    body += `${i2}PrimitiveSetList ${prims.length} {\n${prims.join("")}${i2}}\n`;
    body += array("VertexArray", "osg::Vec3Array", verts);
    if (g.normals) body += array("NormalArray", "osg::Vec3Array", normals);
    if (g.colors)
      body += array("ColorArray", g.colors === "ubyte" ? "osg::Vec4ubArray" : "osg::Vec4Array", colors);
    if (g.texCoords) {
      body += `${i2}TexCoordArrayList 1 {\n${i3}osg::Vec2Array {\n${i3}  ${id()}\n${i3}  Binding BIND_PER_VERTEX\n${vector(tcs, tcs.length, `${i3}  `)}${i3}}\n${i2}}\n`;
    }
    return `${body}${ind}}\n`;
  };
  const geode = (ind: string) =>
    `${ind}osg::Geode {\n${ind}  ${id()}\n${ind}  Drawables ${spec.geometries.length} {\n${spec.geometries
      .map((g) => geom(g, `${ind}    `))
      .join("")}${ind}  }\n${ind}}\n`;
  const child = (ind: string) =>
    spec.translate
      ? `${ind}osg::MatrixTransform {\n${ind}  ${id()}\n${ind}  Children 1 {\n${geode(`${ind}    `)}${ind}  }\n${ind}  Matrix {\n${ind}    1 0 0 0\n${ind}    0 1 0 0\n${ind}    0 0 1 0\n${ind}    ${spec.translate.map(fmt).join(" ")} 1\n${ind}  }\n${ind}}\n`
      : geode(ind);
  let out = "#Ascii Scene\n#Version 161\n#Generator OpenSceneGraph 3.6.5\n\n";
  if (spec.kind === "group") {
    out += `osg::Group {\n  ${id()}\n${spec.name ? `  Name "${spec.name}"\n` : ""}  Children 1 {\n${child("    ")}  }\n}\n`;
    return out;
  }
  const ranges = spec.ranges ?? [];
  const names = spec.fileNames ?? [];
  out += `osg::PagedLOD {\n  ${id()}\n${spec.name ? `  Name "${spec.name}"\n` : ""}`;
  out += `  CenterMode USER_DEFINED_CENTER\n  UserCenter ${(spec.center ?? [0, 0, 0]).map(fmt).join(" ")} ${fmt(spec.radius ?? 1)}\n`;
  out += `  RangeMode PIXEL_SIZE_ON_SCREEN\n  RangeList ${ranges.length} {\n${ranges.map((r) => `    ${fmt(r[0])} ${r[1] >= 1e30 ? "1e+30" : fmt(r[1])}\n`).join("")}  }\n`;
  out += `  RangeDataList ${names.length} {\n${names.map((n) => `    "${n}"\n`).join("")}  }\n`;
  out += `  PriorityList ${names.length} {\n${names.map(() => "    0 1\n").join("")}  }\n`;
  out += `  Children 1 {\n${child("    ")}  }\n}\n`;
  return out;
}

function chunk<T>(a: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += n) out.push(a.slice(i, i + n));
  return out;
}
