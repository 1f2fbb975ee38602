/**
 * The scene graph an .osgb file decodes to: plain objects with typed arrays, shaped for the later
 * ContextCapture/DJI -> 3D Tiles conversion (PagedLOD ranges, centre, radius and child file names; per-geometry
 * primitive sets; texture image bytes + MIME type or an external file name; material colours).
 */

export type Vec3 = [number, number, number];
export type Vec4 = [number, number, number, number];

export type OsgbTypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** An osg::Array (Vec3Array, Vec2Array, Vec4ubArray, ...): `data` holds `count * itemSize` components. */
export interface OsgbArray {
  /** OSG class name, e.g. "osg::Vec3Array". */
  className: string;
  itemSize: number;
  count: number;
  data: OsgbTypedArray;
  /** OSG attribute binding: 0 off, 1 overall, 2 per primitive set, 4 per vertex (-1 undefined). */
  binding: number;
  normalize: boolean;
}

export interface OsgbPrimitiveSet {
  /** "DrawElementsUByte" | "DrawElementsUShort" | "DrawElementsUInt" | "DrawArrays" | "DrawArrayLengths". */
  type: "DrawElementsUByte" | "DrawElementsUShort" | "DrawElementsUInt" | "DrawArrays" | "DrawArrayLengths";
  /** GL primitive mode (0 POINTS ... 4 TRIANGLES, 5 TRIANGLE_STRIP, 6 TRIANGLE_FAN, 7 QUADS ...). */
  mode: number;
  modeName: string;
  numInstances: number;
  /** DrawElements*: the index list. */
  indices?: Uint8Array | Uint16Array | Uint32Array;
  /** DrawArrays / DrawArrayLengths: first vertex. */
  first?: number;
  /** DrawArrays: vertex count. */
  count?: number;
  /** DrawArrayLengths: one vertex count per primitive. */
  lengths?: Int32Array;
}

export interface OsgbImage {
  id: number;
  /** The file name OSG recorded (relative to the .osgb for external images). */
  fileName: string;
  /**
   * "file": `data` holds an encoded image file (JPEG/PNG/...) embedded in the .osgb;
   * "pixels": `data` holds raw pixels (`width` x `height` x `depth`, GL `pixelFormat`/`dataType`);
   * "external": nothing embedded, load `fileName`.
   */
  storage: "file" | "pixels" | "external";
  /** For "file": sniffed from the bytes (image/jpeg, image/png, ...); undefined when not recognised. */
  mimeType?: string;
  data?: Uint8Array;
  width?: number;
  height?: number;
  depth?: number;
  pixelFormat?: number;
  dataType?: number;
  internalFormat?: number;
  /** 0 bottom-left (OSG default), 1 top-left. */
  origin?: number;
}

export interface OsgbTexture {
  className: string;
  id: number;
  image: OsgbImage | null;
  wrapS?: number;
  wrapT?: number;
  minFilter?: number;
  magFilter?: number;
}

export interface OsgbMaterial {
  id: number;
  ambient: Vec4;
  diffuse: Vec4;
  specular: Vec4;
  emission: Vec4;
  shininess: number;
}

export interface OsgbStateSet {
  id: number;
  material: OsgbMaterial | null;
  /** Texture per texture unit (sparse: index = unit). */
  textures: (OsgbTexture | null)[];
  /** GL modes set on the state set (e.g. GL_LIGHTING 0x0B50 -> value). */
  modes: Map<number, number>;
  renderingHint: number;
}

interface NodeBase {
  className: string;
  id: number;
  name: string;
  stateSet: OsgbStateSet | null;
}

export interface OsgbGroup extends NodeBase {
  kind: "group";
  children: OsgbNode[];
  /** For osg::MatrixTransform: column-major 4x4 (OSG's row-vector layout written out row by row). */
  matrix?: number[];
}

export interface OsgbLod extends NodeBase {
  kind: "lod";
  /** 0 USE_BOUNDING_SPHERE_CENTER, 1 USER_DEFINED_CENTER, 2 UNION_OF_BOUNDING_SPHERE_AND_USER_DEFINED. */
  centerMode: number;
  /** User centre and radius (present when the centre mode uses them). */
  center: Vec3 | null;
  radius: number | null;
  /** 0 DISTANCE_FROM_EYE_POINT, 1 PIXEL_SIZE_ON_SCREEN. */
  rangeMode: number;
  ranges: [number, number][];
  children: OsgbNode[];
}

export interface OsgbPagedLod extends Omit<OsgbLod, "kind"> {
  kind: "pagedLod";
  databasePath: string | null;
  /** One entry per range: "" for a child held in this file, else the child file name. */
  fileNames: string[];
  priorities: [number, number][];
  numChildrenThatCannotBeExpired: number;
}

export interface OsgbGeode extends NodeBase {
  kind: "geode";
  children: OsgbNode[];
}

export interface OsgbGeometry extends NodeBase {
  kind: "geometry";
  primitives: OsgbPrimitiveSet[];
  vertices: OsgbArray | null;
  normals: OsgbArray | null;
  colors: OsgbArray | null;
  texCoords: (OsgbArray | null)[];
}

/** A class this reader does not decode, skipped by its recorded block size. */
export interface OsgbUnknown {
  kind: "unknown";
  className: string;
  id: number;
}

export type OsgbNode = OsgbGroup | OsgbLod | OsgbPagedLod | OsgbGeode | OsgbGeometry | OsgbUnknown;

export interface OsgbScene {
  file: string;
  /** OSG serializer ("SO") version recorded in the header, e.g. 91 (OSG 3.0), 161 (OSG 3.6.5). */
  version: number;
  /** Whether the stream records block sizes (unknown classes can be skipped). */
  hasBlockSizes: boolean;
  compressor: string;
  root: OsgbNode | null;
  /** Classes met but not decoded (skipped by block size), with counts. */
  skippedClasses: Record<string, number>;
}
