import { unzipSync } from "node:zlib";
import type {
  OsgbArray,
  OsgbGeometry,
  OsgbImage,
  OsgbMaterial,
  OsgbNode,
  OsgbPagedLod,
  OsgbPrimitiveSet,
  OsgbScene,
  OsgbStateSet,
  OsgbTexture,
  OsgbTypedArray,
  Vec3,
  Vec4,
} from "./osgb-types.ts";

/*
 * Reader for OpenSceneGraph's binary format (.osgb, the "osg2" serializer plugin), written by hand because no
 * maintained JavaScript library reads it (the format is only defined by OSG's C++ serializer wrappers).
 *
 * The binary stream is the same serializer sequence as the .osgt text: for every object, the class name, an
 * optional block size (header flag 0x4, "brackets"), a unique id (objects already read are written as a reference:
 * name + size + id only), then each associated wrapper's properties in order (osg::Object, osg::Node, ...). Which
 * properties exist depends on the file's serializer version (OSG "SO version"), so each wrapper below gates its
 * properties exactly as OSG's `UPDATE_TO_VERSION_SCOPED` blocks do. Values are typed: bool = 1 byte, int/uint/
 * GLenum/enum = 4 bytes, string = int32 length + bytes, "{" = block size (int32, int64 from version 149) only when
 * the brackets flag is set. Object-valued properties start with a bool "present" flag; "user" serializers also
 * start with a bool (OSG's check() result) before their custom payload.
 */

export class OsgbError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    message: string,
    readonly className?: string,
  ) {
    super(`${file}: byte ${offset}${className ? ` (${className})` : ""}: ${message}`);
    this.name = "OsgbError";
  }
}

export interface ReadOsgbOptions {
  /** Named in errors. */
  file?: string;
  /**
   * Fail when a decoded object ends before its recorded block size (a property this reader does not know). By
   * default the rest of the block is skipped, as OSG itself does.
   */
  strict?: boolean;
}

const MAGIC_LOW = 0x6c910ea1;
const MAGIC_HIGH = 0x1afb4545;
const MAX_INFLATED = 1 << 30;

const MODE_NAMES = [
  "POINTS",
  "LINES",
  "LINE_LOOP",
  "LINE_STRIP",
  "TRIANGLES",
  "TRIANGLE_STRIP",
  "TRIANGLE_FAN",
  "QUADS",
  "QUAD_STRIP",
  "POLYGON",
];

type Ctor = { new (buffer: ArrayBuffer): OsgbTypedArray; BYTES_PER_ELEMENT: number };
interface ArrayKind {
  ctor: Ctor;
  itemSize: number;
}
const I8 = Int8Array as unknown as Ctor;
const U8 = Uint8Array as unknown as Ctor;
const I16 = Int16Array as unknown as Ctor;
const U16 = Uint16Array as unknown as Ctor;
const I32 = Int32Array as unknown as Ctor;
const U32 = Uint32Array as unknown as Ctor;
const F32 = Float32Array as unknown as Ctor;
const F64 = Float64Array as unknown as Ctor;

/** osg::XxxArray class names (serializer version >= 112, arrays are objects). */
const ARRAY_CLASSES: Record<string, ArrayKind> = {};
for (const [prefix, ctor] of [
  ["b", I8],
  ["ub", U8],
  ["s", I16],
  ["us", U16],
  ["i", I32],
  ["ui", U32],
  ["", F32],
  ["d", F64],
] as const) {
  for (const n of [2, 3, 4]) ARRAY_CLASSES[`osg::Vec${n}${prefix}Array`] = { ctor, itemSize: n };
}
Object.assign(ARRAY_CLASSES, {
  "osg::ByteArray": { ctor: I8, itemSize: 1 },
  "osg::UByteArray": { ctor: U8, itemSize: 1 },
  "osg::ShortArray": { ctor: I16, itemSize: 1 },
  "osg::UShortArray": { ctor: U16, itemSize: 1 },
  "osg::IntArray": { ctor: I32, itemSize: 1 },
  "osg::UIntArray": { ctor: U32, itemSize: 1 },
  "osg::FloatArray": { ctor: F32, itemSize: 1 },
  "osg::DoubleArray": { ctor: F64, itemSize: 1 },
  "osg::MatrixArray": { ctor: F32, itemSize: 16 },
  "osg::MatrixdArray": { ctor: F64, itemSize: 16 },
});

/** Array type ids of the pre-112 stream (osgDB/DataTypes ID_*_ARRAY). */
const ARRAY_IDS: (string | undefined)[] = [
  "osg::ByteArray",
  "osg::UByteArray",
  "osg::ShortArray",
  "osg::UShortArray",
  "osg::IntArray",
  "osg::UIntArray",
  "osg::FloatArray",
  "osg::DoubleArray",
  "osg::Vec2bArray",
  "osg::Vec3bArray",
  "osg::Vec4bArray",
  "osg::Vec4ubArray",
  "osg::Vec2sArray",
  "osg::Vec3sArray",
  "osg::Vec4sArray",
  "osg::Vec2Array",
  "osg::Vec3Array",
  "osg::Vec4Array",
  "osg::Vec2dArray",
  "osg::Vec3dArray",
  "osg::Vec4dArray",
  "osg::Vec2ubArray",
  "osg::Vec3ubArray",
  "osg::Vec2usArray",
  "osg::Vec3usArray",
  "osg::Vec4usArray",
  "osg::Vec2iArray",
  "osg::Vec3iArray",
  "osg::Vec4iArray",
  "osg::Vec2uiArray",
  "osg::Vec3uiArray",
  "osg::Vec4uiArray",
];

const BUFFER_OBJECTS = new Set([
  "osg::BufferObject",
  "osg::VertexBufferObject",
  "osg::ElementBufferObject",
  "osg::PixelBufferObject",
  "osg::PixelDataBufferObject",
  "osg::DrawIndirectBufferObject",
]);

const VALUE_OBJECTS: Record<
  string,
  "str" | "bool" | "i32" | "u32" | "f32" | "f64" | "i16" | "u16" | "i8" | "u8"
> = {
  "osg::StringValueObject": "str",
  "osg::BoolValueObject": "bool",
  "osg::CharValueObject": "i8",
  "osg::UCharValueObject": "u8",
  "osg::ShortValueObject": "i16",
  "osg::UShortValueObject": "u16",
  "osg::IntValueObject": "i32",
  "osg::UIntValueObject": "u32",
  "osg::FloatValueObject": "f32",
  "osg::DoubleValueObject": "f64",
};

/** MIME type of an embedded image file, from its signature (OSG records only the original file name). */
function sniffMime(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes[0] === 0x44 && bytes[1] === 0x44 && bytes[2] === 0x53 && bytes[3] === 0x20)
    return "image/vnd-ms.dds";
  if (bytes[0] === 0xab && bytes[1] === 0x4b && bytes[2] === 0x54 && bytes[3] === 0x58) return "image/ktx";
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46) return "image/webp";
  if (bytes[0] === 0x42 && bytes[1] === 0x4d) return "image/bmp";
  if ((bytes[0] === 0x49 && bytes[1] === 0x49) || (bytes[0] === 0x4d && bytes[1] === 0x4d))
    return "image/tiff";
  return undefined;
}

type Shared =
  | OsgbNode
  | OsgbStateSet
  | OsgbMaterial
  | OsgbTexture
  | OsgbImage
  | OsgbArray
  | OsgbPrimitiveSet
  | null;

class Reader {
  private u8: Uint8Array;
  private dv: DataView;
  pos = 0;
  version = 0;
  brackets = false;
  private le = true;
  private readonly ids = new Map<number, unknown>();
  private readonly oldArrays = new Map<number, OsgbArray | null>();
  readonly skipped: Record<string, number> = {};
  /** Class being decoded, for error messages. */
  private current: string[] = [];

  constructor(
    bytes: Uint8Array,
    readonly file: string,
    private readonly strict: boolean,
  ) {
    // A plain view: Buffer#slice would alias the input (and Node's shared pool) instead of copying.
    this.u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string, offset = this.pos): never {
    throw new OsgbError(this.file, offset, message, this.current.at(-1));
  }

  setLittleEndian(le: boolean) {
    this.le = le;
  }

  replaceInput(bytes: Uint8Array) {
    this.u8 = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  private need(n: number) {
    if (n < 0 || this.pos + n > this.u8.byteLength) {
      this.fail(
        `unexpected end of data: need ${n} bytes, ${this.u8.byteLength - this.pos} left (truncated file?)`,
      );
    }
  }

  bool(): boolean {
    this.need(1);
    return this.u8[this.pos++] !== 0;
  }
  u8v(): number {
    this.need(1);
    return this.u8[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, this.le);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  f32(): number {
    this.need(4);
    const v = this.dv.getFloat32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.dv.getFloat64(this.pos, this.le);
    this.pos += 8;
    return v;
  }
  vec3d(): Vec3 {
    return [this.f64(), this.f64(), this.f64()];
  }
  vec4f(): Vec4 {
    return [this.f32(), this.f32(), this.f32(), this.f32()];
  }
  str(): string {
    const at = this.pos;
    const n = this.i32();
    if (n < 0) this.fail(`negative string length ${n}`, at);
    this.need(n);
    const s = Buffer.from(this.u8.buffer, this.u8.byteOffset + this.pos, n).toString("utf8");
    this.pos += n;
    return s;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.u8.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** A count of items of `itemBytes` each that must still fit in the input. */
  count(itemBytes: number, what: string): number {
    const at = this.pos;
    const n = this.u32();
    if (n * itemBytes > this.u8.byteLength - this.pos) {
      this.fail(
        `${what} count ${n} exceeds the ${this.u8.byteLength - this.pos} bytes left (corrupt file?)`,
        at,
      );
    }
    return n;
  }

  /** A "{" mark: the block's end offset when the stream records sizes, else -1. */
  begin(): number {
    if (!this.brackets) return -1;
    const at = this.pos;
    let size: number;
    if (this.version > 148) {
      this.need(8);
      const lo = this.dv.getUint32(this.pos, this.le);
      const hi = this.dv.getUint32(this.pos + 4, this.le);
      size = this.le ? hi * 2 ** 32 + lo : lo * 2 ** 32 + hi;
      this.pos += 8;
    } else {
      size = this.i32();
    }
    const end = at + size;
    if (size < (this.version > 148 ? 8 : 4) || end > this.u8.byteLength) {
      this.fail(`block size ${size} runs past the end of the data (${this.u8.byteLength} bytes)`, at);
    }
    return end;
  }

  /** Read `n` items of `itemSize` components into a fresh typed array. */
  typed(ctor: Ctor, n: number, itemSize: number): OsgbTypedArray {
    const comps = n * itemSize;
    const bytes = comps * ctor.BYTES_PER_ELEMENT;
    this.need(bytes);
    const copy = this.u8.slice(this.pos, this.pos + bytes);
    this.pos += bytes;
    // slice() copies into a fresh, aligned buffer, so the typed view below is always legal.
    const out = new ctor(copy.buffer);
    if (!this.le && ctor.BYTES_PER_ELEMENT > 1) {
      const dv = new DataView(copy.buffer);
      const w = ctor.BYTES_PER_ELEMENT;
      for (let o = 0; o < bytes; o += w) {
        for (let a = o, b = o + w - 1; a < b; a++, b--) {
          const t = dv.getUint8(a);
          dv.setUint8(a, dv.getUint8(b));
          dv.setUint8(b, t);
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- objects

  /** InputStream::readObject. */
  object(): Shared | unknown {
    const start = this.pos;
    const className = this.str();
    if (className === "NULL") return null;
    if (!/^[A-Za-z_][\w:]*$/.test(className) || className.length > 200) {
      this.fail(`expected a class name, found ${JSON.stringify(className.slice(0, 40))}`, start);
    }
    const end = this.begin();
    const id = this.u32();
    if (this.ids.has(id)) {
      if (end >= 0) this.pos = end;
      return this.ids.get(id);
    }
    // Real scene graphs are a few levels deep; a forged one must not overflow the stack.
    if (this.current.length > 200) this.fail("objects nested more than 200 deep (corrupt file?)", start);
    this.current.push(className);
    const value = this.fields(className, id, end, start);
    this.current.pop();
    if (end >= 0) {
      if (this.pos > end) this.fail(`decoded past the end of the ${className} block (ends at byte ${end})`);
      if (this.pos < end) {
        if (this.strict) this.fail(`${end - this.pos} undecoded bytes at the end of the ${className} block`);
        this.pos = end;
      }
    }
    return value;
  }

  private objectProp(): unknown {
    return this.bool() ? this.object() : null;
  }

  private fields(className: string, id: number, end: number, start: number): unknown {
    const v = this.version;
    switch (className) {
      case "osg::Group":
      case "osg::Node":
      case "osg::MatrixTransform": {
        const node = this.nodeFields(className, id);
        const g = { kind: "group" as const, ...node, children: [] as OsgbNode[] };
        this.ids.set(id, g);
        if (className === "osg::Node") return g;
        g.children = this.childList();
        if (className === "osg::MatrixTransform") {
          this.i32(); // ReferenceFrame
          this.begin();
          const m: number[] = [];
          for (let i = 0; i < 16; i++) m.push(this.f64());
          return Object.assign(g, { matrix: m });
        }
        return g;
      }
      case "osg::Geode": {
        const node = this.nodeFields(className, id);
        const g = { kind: "geode" as const, ...node, children: [] as OsgbNode[] };
        this.ids.set(id, g);
        g.children = this.childList();
        return g;
      }
      case "osg::LOD":
      case "osg::PagedLOD": {
        const node = this.nodeFields(className, id);
        const centerMode = this.i32();
        let center: Vec3 | null = null;
        let radius: number | null = null;
        if (this.bool()) {
          center = this.vec3d();
          radius = this.f64();
        }
        const rangeMode = this.i32();
        const ranges: [number, number][] = [];
        if (this.bool()) {
          const n = this.count(8, "range");
          this.begin();
          for (let i = 0; i < n; i++) ranges.push([this.f32(), this.f32()]);
        }
        if (className === "osg::LOD") {
          const lod = {
            kind: "lod" as const,
            ...node,
            centerMode,
            center,
            radius,
            rangeMode,
            ranges,
            children: [],
          };
          this.ids.set(id, lod);
          lod.children = this.childList() as never;
          return lod;
        }
        const p: OsgbPagedLod = {
          kind: "pagedLod",
          ...node,
          centerMode,
          center,
          radius,
          rangeMode,
          ranges,
          children: [],
          databasePath: null,
          fileNames: [],
          priorities: [],
          numChildrenThatCannotBeExpired: 0,
        };
        this.ids.set(id, p);
        if (this.bool() && this.bool()) p.databasePath = this.str();
        if (v < 70) this.u32(); // FrameNumberOfLastTraversal
        p.numChildrenThatCannotBeExpired = this.u32();
        this.bool(); // DisableExternalChildrenPaging
        if (this.bool()) {
          const n = this.count(4, "file name");
          this.begin();
          for (let i = 0; i < n; i++) p.fileNames.push(this.str());
          const m = this.count(8, "priority");
          this.begin();
          for (let i = 0; i < m; i++) p.priorities.push([this.f32(), this.f32()]);
        }
        p.children = this.childList();
        return p;
      }
      case "osg::Geometry":
        return this.geometry(id);
      case "osg::StateSet":
        return this.stateSet(id);
      case "osg::Material": {
        this.objectFields();
        this.stateAttributeFields();
        this.i32(); // ColorMode
        const side = (): Vec4 => {
          if (!this.bool()) return [0, 0, 0, 0];
          this.bool(); // front and back
          const front = this.vec4f();
          this.vec4f();
          return front;
        };
        const ambient = side();
        const diffuse = side();
        const specular = side();
        const emission = side();
        let shininess = 0;
        if (this.bool()) {
          this.bool();
          shininess = this.f32();
          this.f32();
        }
        const m: OsgbMaterial = { id, ambient, diffuse, specular, emission, shininess };
        this.ids.set(id, m);
        return m;
      }
      case "osg::Texture2D":
        return this.texture2D(className, id);
      case "osg::DefaultUserDataContainer": {
        this.objectFields();
        this.objectProp(); // UserData
        if (this.bool()) {
          const n = this.count(4, "description");
          this.begin();
          for (let i = 0; i < n; i++) this.str();
        }
        if (this.bool()) {
          const n = this.count(1, "user object");
          this.begin();
          for (let i = 0; i < n; i++) this.object();
        }
        this.ids.set(id, null);
        return null;
      }
      default:
        break;
    }
    if (VALUE_OBJECTS[className]) {
      this.objectFields();
      const t = VALUE_OBJECTS[className];
      if (t === "str") this.str();
      else if (t === "bool" || t === "i8" || t === "u8") this.u8v();
      else if (t === "i16" || t === "u16") this.u16();
      else if (t === "f64") this.f64();
      else this.u32();
      this.ids.set(id, null);
      return null;
    }
    if (v >= 112 && ARRAY_CLASSES[className]) return this.arrayObject(className, id);
    if (v >= 112 && className.startsWith("osg::Draw")) {
      const p = this.primitiveObject(className, id);
      if (p) return p;
    }
    if (BUFFER_OBJECTS.has(className)) {
      this.objectFields();
      this.u32(); // Target
      this.u32(); // Usage
      this.bool(); // CopyDataAndReleaseGLBufferObject
      this.ids.set(id, null);
      return null;
    }
    const unknown = { kind: "unknown" as const, className, id };
    this.skipped[className] = (this.skipped[className] ?? 0) + 1;
    this.ids.set(id, unknown);
    this.pos = end >= 0 ? end : this.unknown(className, start);
    return unknown;
  }

  private unknown(className: string, start: number): never {
    throw new OsgbError(
      this.file,
      start,
      `class ${className} is not supported and this file records no block sizes to skip it (header flag 0x4 unset)`,
      className,
    );
  }

  /** osg::Object properties. */
  private objectFields(): string {
    const name = this.str();
    this.i32(); // DataVariance
    if (this.version >= 77) {
      this.objectProp(); // UserDataContainer
    } else if (this.bool()) {
      this.begin();
      this.object();
    }
    return name;
  }

  /** osg::Object + osg::Node properties. */
  private nodeFields(className: string, id: number) {
    const name = this.objectFields();
    const stateSet = this.nodeOnlyFields();
    return { className, id, name, stateSet };
  }

  private nodeOnlyFields(): OsgbStateSet | null {
    if (this.bool()) {
      this.begin();
      this.vec3d();
      this.f64();
    }
    this.objectProp(); // ComputeBoundingSphereCallback
    this.objectProp(); // UpdateCallback
    this.objectProp(); // EventCallback
    this.objectProp(); // CullCallback
    this.bool(); // CullingActive
    this.u32(); // NodeMask
    if (this.version < 77 && this.bool()) {
      const n = this.count(4, "description");
      this.begin();
      for (let i = 0; i < n; i++) this.str();
    }
    return this.stateSetProp();
  }

  private stateSetProp(): OsgbStateSet | null {
    const s = this.objectProp();
    return s && typeof s === "object" && "textures" in s ? (s as OsgbStateSet) : null;
  }

  /** Group "Children", Geode "Drawables" and PagedLOD "Children": a user serializer holding a list of objects. */
  private childList(): OsgbNode[] {
    const out: OsgbNode[] = [];
    if (!this.bool()) return out;
    const n = this.count(1, "child");
    this.begin();
    for (let i = 0; i < n; i++) {
      const c = this.object();
      if (c && typeof c === "object" && "kind" in c) out.push(c as OsgbNode);
    }
    return out;
  }

  private stateAttributeFields() {
    this.objectProp(); // UpdateCallback
    this.objectProp(); // EventCallback
  }

  private geometry(id: number): OsgbGeometry {
    const v = this.version;
    const name = this.objectFields();
    const g: OsgbGeometry = {
      kind: "geometry",
      className: "osg::Geometry",
      id,
      name,
      stateSet: null,
      primitives: [],
      vertices: null,
      normals: null,
      colors: null,
      texCoords: [],
    };
    this.ids.set(id, g);
    // osg::Drawable became an osg::Node at version 154 and dropped its own copies of the Node properties at 156.
    if (v >= 154) g.stateSet = this.nodeOnlyFields();
    if (v < 156) g.stateSet = this.stateSetProp() ?? g.stateSet;
    if (this.bool()) {
      this.begin();
      this.vec3d();
      this.vec3d();
    }
    this.objectProp(); // ComputeBoundingBoxCallback
    this.objectProp(); // Shape
    this.bool(); // SupportsDisplayList
    this.bool(); // UseDisplayList
    this.bool(); // UseVertexBufferObjects
    if (v < 156) {
      this.objectProp(); // UpdateCallback
      this.objectProp(); // EventCallback
      this.objectProp(); // CullCallback
      this.objectProp(); // DrawCallback
    }
    if (v >= 142) this.u32(); // NodeMask
    if (v >= 145) this.bool(); // CullingActive

    if (v < 112) {
      const n = this.count(12, "primitive set");
      for (let i = 0; i < n; i++) g.primitives.push(this.oldPrimitive());
      const data = (): OsgbArray | null => {
        if (!this.bool()) return null;
        this.begin();
        return this.oldArrayData();
      };
      g.vertices = data();
      g.normals = data();
      g.colors = data();
      data(); // SecondaryColorData
      data(); // FogCoordData
      const list = (): (OsgbArray | null)[] => {
        const out: (OsgbArray | null)[] = [];
        if (!this.bool()) return out;
        const n2 = this.count(1, "array list");
        this.begin();
        for (let i = 0; i < n2; i++) {
          this.begin();
          out.push(this.oldArrayData());
        }
        return out;
      };
      g.texCoords = list();
      list(); // VertexAttribData
      this.bool(); // FastPathHint
      return g;
    }
    const n = this.count(1, "primitive set");
    for (let i = 0; i < n; i++) {
      const p = this.object();
      if (p && typeof p === "object" && "mode" in p) g.primitives.push(p as OsgbPrimitiveSet);
    }
    const arr = (): OsgbArray | null => {
      const a = this.objectProp();
      return a && typeof a === "object" && "itemSize" in a ? (a as OsgbArray) : null;
    };
    g.vertices = arr();
    g.normals = arr();
    g.colors = arr();
    arr(); // SecondaryColorArray
    arr(); // FogCoordArray
    const tn = this.count(1, "texture coordinate array");
    for (let i = 0; i < tn; i++) {
      const a = this.object();
      g.texCoords.push(a && typeof a === "object" && "itemSize" in a ? (a as OsgbArray) : null);
    }
    const an = this.count(1, "vertex attribute array");
    for (let i = 0; i < an; i++) this.object();
    return g;
  }

  /** Pre-112 Geometry::ArrayData: Array, Indices, Binding, Normalize. */
  private oldArrayData(): OsgbArray | null {
    const array = this.bool() ? this.oldArray() : null;
    if (this.bool()) this.oldArray(); // indices (deprecated indexed arrays)
    const binding = this.i32();
    const normalize = this.i32() !== 0;
    if (!array) return null;
    return { ...array, binding, normalize };
  }

  /** InputStream::readArray (pre-112): ArrayID, type id, size, "{", data. */
  private oldArray(): OsgbArray | null {
    const id = this.u32();
    if (this.oldArrays.has(id)) return this.oldArrays.get(id) ?? null;
    const at = this.pos;
    const type = this.i32();
    const className = ARRAY_IDS[type];
    if (!className) this.fail(`unsupported array type id ${type}`, at);
    const kind = ARRAY_CLASSES[className];
    const n = this.count(kind.itemSize * kind.ctor.BYTES_PER_ELEMENT, "array element");
    this.begin();
    const data = this.typed(kind.ctor, n, kind.itemSize);
    const a: OsgbArray = {
      className,
      itemSize: kind.itemSize,
      count: n,
      data,
      binding: -1,
      normalize: false,
    };
    this.oldArrays.set(id, a);
    return a;
  }

  /** InputStream::readPrimitiveSet (pre-112). */
  private oldPrimitive(): OsgbPrimitiveSet {
    const at = this.pos;
    const type = this.i32();
    const mode = this.i32();
    const numInstances = this.version > 96 ? this.u32() : 0;
    const base = { mode, modeName: MODE_NAMES[mode] ?? `0x${mode.toString(16)}`, numInstances };
    switch (type) {
      case 50:
        return { type: "DrawArrays", ...base, first: this.i32(), count: this.i32() };
      case 51: {
        const first = this.i32();
        const n = this.count(4, "length");
        this.begin();
        return { type: "DrawArrayLengths", ...base, first, lengths: this.typed(I32, n, 1) as Int32Array };
      }
      case 52:
      case 53:
      case 54: {
        const ctor = type === 52 ? U8 : type === 53 ? U16 : U32;
        const n = this.count(ctor.BYTES_PER_ELEMENT, "index");
        this.begin();
        const indices = this.typed(ctor, n, 1) as Uint8Array | Uint16Array | Uint32Array;
        const t = type === 52 ? "DrawElementsUByte" : type === 53 ? "DrawElementsUShort" : "DrawElementsUInt";
        return { type: t, ...base, indices };
      }
      default:
        this.fail(`unsupported primitive set type id ${type}`, at);
    }
  }

  /** osg::BufferData, an associate of arrays and primitive sets from version 147: the buffer object. */
  private bufferDataFields() {
    if (this.version >= 147) this.objectProp();
  }

  private arrayObject(className: string, id: number): OsgbArray {
    this.objectFields();
    this.bufferDataFields();
    const binding = this.i32();
    const normalize = this.bool();
    this.bool(); // PreserveDataType
    const kind = ARRAY_CLASSES[className];
    const n = this.count(kind.itemSize * kind.ctor.BYTES_PER_ELEMENT, "array element");
    const data = this.typed(kind.ctor, n, kind.itemSize);
    const a: OsgbArray = { className, itemSize: kind.itemSize, count: n, data, binding, normalize };
    this.ids.set(id, a);
    return a;
  }

  private primitiveObject(className: string, id: number): OsgbPrimitiveSet | null {
    const type = className.slice(5) as OsgbPrimitiveSet["type"];
    const ctor =
      type === "DrawElementsUByte"
        ? U8
        : type === "DrawElementsUShort"
          ? U16
          : type === "DrawElementsUInt"
            ? U32
            : null;
    if (!ctor && type !== "DrawArrays" && type !== "DrawArrayLengths") return null;
    this.objectFields();
    this.bufferDataFields();
    const numInstances = this.i32();
    const mode = this.u32();
    const p: OsgbPrimitiveSet = {
      type,
      mode,
      modeName: MODE_NAMES[mode] ?? `0x${mode.toString(16)}`,
      numInstances,
    };
    if (type === "DrawArrays") {
      p.first = this.i32();
      p.count = this.i32();
    } else if (type === "DrawArrayLengths") {
      p.first = this.i32();
      const n = this.count(4, "length");
      p.lengths = this.typed(I32, n, 1) as Int32Array;
    } else if (ctor) {
      const n = this.count(ctor.BYTES_PER_ELEMENT, "index");
      p.indices = this.typed(ctor, n, 1) as Uint8Array | Uint16Array | Uint32Array;
    }
    this.ids.set(id, p);
    return p;
  }

  private stateSet(id: number): OsgbStateSet {
    this.objectFields();
    const s: OsgbStateSet = { id, material: null, textures: [], modes: new Map(), renderingHint: 0 };
    this.ids.set(id, s);
    const modes = (into: Map<number, number> | null) => {
      const n = this.count(8, "mode");
      if (n === 0) return;
      this.begin();
      for (let i = 0; i < n; i++) {
        const mode = this.u32();
        const value = this.i32();
        into?.set(mode, value);
      }
    };
    const attributes = (unit: number) => {
      const n = this.count(1, "attribute");
      if (n === 0) return;
      this.begin();
      for (let i = 0; i < n; i++) {
        const a = this.object();
        this.i32(); // Value (ON/OFF/OVERRIDE bits)
        if (a && typeof a === "object") {
          if ("shininess" in a && unit < 0) s.material = a as OsgbMaterial;
          else if ("image" in a && unit >= 0) s.textures[unit] = a as OsgbTexture;
        }
      }
    };
    if (this.bool()) modes(s.modes);
    if (this.bool()) attributes(-1);
    if (this.bool()) {
      const n = this.count(1, "texture mode list");
      this.begin();
      for (let i = 0; i < n; i++) modes(null);
    }
    if (this.bool()) {
      const n = this.count(1, "texture attribute list");
      this.begin();
      for (let i = 0; i < n; i++) attributes(i);
    }
    if (this.bool()) {
      const n = this.count(1, "uniform");
      this.begin();
      for (let i = 0; i < n; i++) {
        this.object();
        this.i32();
      }
    }
    s.renderingHint = this.i32();
    this.i32(); // RenderBinMode
    this.i32(); // BinNumber
    this.str(); // BinName
    this.bool(); // NestRenderBins
    this.objectProp(); // UpdateCallback
    this.objectProp(); // EventCallback
    if (this.version >= 151 && this.bool()) {
      const n = this.count(1, "define");
      this.begin();
      for (let i = 0; i < n; i++) {
        this.str();
        this.str();
        this.i32();
      }
    }
    return s;
  }

  private texture2D(className: string, id: number): OsgbTexture {
    const v = this.version;
    this.objectFields();
    this.stateAttributeFields();
    const t: OsgbTexture = { className, id, image: null };
    this.ids.set(id, t);
    const glenum = () => (this.bool() ? this.u32() : undefined);
    t.wrapS = glenum();
    t.wrapT = glenum();
    glenum(); // WRAP_R
    t.minFilter = glenum();
    t.magFilter = glenum();
    this.f32(); // MaxAnisotropy
    this.bool(); // UseHardwareMipMapGeneration
    this.bool(); // UnRefImageDataAfterApply
    this.bool(); // ClientStorageHint
    this.bool(); // ResizeNonPowerOfTwoHint
    for (let i = 0; i < 4; i++) this.f64(); // BorderColor
    this.i32(); // BorderWidth
    this.i32(); // InternalFormatMode
    glenum(); // InternalFormat
    glenum(); // SourceFormat
    glenum(); // SourceType
    this.bool(); // ShadowComparison
    this.i32(); // ShadowCompareFunc
    this.i32(); // ShadowTextureMode
    this.f32(); // ShadowAmbient
    if (v >= 95 && v < 154 && this.bool()) {
      this.u32();
      this.i32();
      this.u8v();
      this.i32();
      this.u32();
      this.u32();
    }
    if (v >= 98 && this.bool()) this.str(); // Swizzle
    if (v >= 155) {
      this.f32(); // MinLOD
      this.f32(); // MaxLOD
      this.f32(); // LODBias
    }
    // osg::Texture2D
    if (this.bool()) t.image = this.image();
    this.i32(); // TextureWidth
    this.i32(); // TextureHeight
    return t;
  }

  /** InputStream::readImage. */
  private image(): OsgbImage | null {
    if (this.version > 94) this.str(); // ClassName
    const id = this.u32();
    if (this.ids.has(id)) return (this.ids.get(id) as OsgbImage) ?? null;
    const fileName = this.str();
    this.i32(); // WriteHint
    const at = this.pos;
    const decision = this.i32();
    const img: OsgbImage = { id, fileName, storage: "external" };
    if (decision === 0) {
      img.origin = this.i32();
      img.width = this.i32();
      img.height = this.i32();
      img.depth = this.i32();
      img.internalFormat = this.i32();
      img.pixelFormat = this.i32();
      img.dataType = this.i32();
      this.i32(); // packing
      this.i32(); // allocation mode
      const size = this.count(1, "image byte");
      if (size > 0) {
        img.data = this.bytes(size);
        img.storage = "pixels";
      }
      const levels = this.count(4, "mipmap level");
      this.pos += levels * 4;
    } else if (decision === 1) {
      const size = this.count(1, "image file byte");
      if (size > 0) {
        img.data = this.bytes(size);
        img.storage = "file";
        img.mimeType = sniffMime(img.data);
      }
    } else if (decision !== 2 && decision !== 3) {
      this.fail(`unknown image storage decision ${decision}`, at);
    }
    this.ids.set(id, img);
    this.current.push("osg::Image");
    this.objectFields();
    this.current.pop();
    return img;
  }
}

/**
 * Decode an OpenSceneGraph binary file (.osgb). Throws OsgbError (file + byte offset) on anything it cannot read,
 * never hangs: every count is checked against the bytes left before anything is allocated.
 */
export function readOsgb(bytes: Uint8Array, options: ReadOsgbOptions = {}): OsgbScene {
  const file = options.file ?? "<memory>";
  const r = new Reader(bytes, file, options.strict ?? false);
  if (bytes.byteLength < 16) r.fail(`too short for an .osgb header (${bytes.byteLength} bytes)`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = dv.getUint32(0, true);
  const high = dv.getUint32(4, true);
  if (low === MAGIC_LOW && high === MAGIC_HIGH) r.setLittleEndian(true);
  else if (dv.getUint32(0, false) === MAGIC_LOW && dv.getUint32(4, false) === MAGIC_HIGH)
    r.setLittleEndian(false);
  else r.fail("not an OpenSceneGraph binary file (bad magic number)", 0);
  r.pos = 8;
  const type = r.u32();
  r.version = r.u32();
  const attributes = r.u32();
  if (type !== 1) r.fail(`stream type ${type} is not a scene (1)`, 8);
  r.brackets = (attributes & 0x4) !== 0;
  if (attributes & 0x1) {
    const n = r.count(8, "custom domain");
    for (let i = 0; i < n; i++) {
      r.str();
      r.i32();
    }
  }
  const compressor = r.str();
  if (compressor !== "0") {
    if (compressor !== "zlib") r.fail(`unsupported stream compressor "${compressor}"`);
    // OSG's ZLibCompressor deflates the rest of the stream as one gzip (or zlib) block.
    const inflated = (() => {
      try {
        // Capped so a forged stream cannot claim gigabytes.
        return unzipSync(bytes.subarray(r.pos), { maxOutputLength: MAX_INFLATED });
      } catch (e) {
        return r.fail(`zlib-compressed stream does not inflate: ${(e as Error).message}`);
      }
    })();
    r.replaceInput(new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength));
  }
  if (attributes & 0x2) r.str(); // schema text: property lists this reader already knows per version
  const root = r.object();
  return {
    file,
    version: r.version,
    hasBlockSizes: r.brackets,
    compressor,
    root: root && typeof root === "object" && "kind" in root ? (root as OsgbNode) : null,
    skippedClasses: r.skipped,
  };
}

/** Depth-first visit of every node (children of groups, geodes and (Paged)LODs). */
export function walkOsgb(
  node: OsgbNode | null,
  visit: (n: OsgbNode, depth: number) => void,
  depth = 0,
): void {
  if (!node) return;
  visit(node, depth);
  if ("children" in node) for (const c of node.children) walkOsgb(c, visit, depth + 1);
}

/** Axis-aligned bounds of a vertex array (first three components of each item). */
export function arrayBounds(a: OsgbArray): { min: Vec3; max: Vec3 } {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  const d = a.data;
  for (let i = 0; i < a.count; i++) {
    for (let k = 0; k < 3 && k < a.itemSize; k++) {
      const x = d[i * a.itemSize + k];
      if (x < min[k]) min[k] = x;
      if (x > max[k]) max[k] = x;
    }
  }
  return { min, max };
}
