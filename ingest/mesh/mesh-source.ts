/** A textured mesh as read from OBJ or glTF, before tiling: one triangle set per material. */

export class MeshInputError extends Error {}

export interface MeshTexture {
  /** Where the image came from (a file, or "model.glb#/images/0"), for messages. */
  source: string;
  bytes: Uint8Array;
  mime: "image/jpeg" | "image/png";
  width: number;
  height: number;
}

export interface MeshMaterial {
  name: string;
  /** Linear RGBA multiplied with the texture (or the colour itself without one). */
  color: [number, number, number, number];
  texture: MeshTexture | null;
}

export interface MeshPart {
  material: number;
  /** Source CRS coordinates with --offset applied, x y z per vertex (z up, as the CRS has it). */
  positions: Float64Array;
  /** glTF convention (v = 0 at the image's first row), null when the part has no texture coordinates. */
  uvs: Float32Array | null;
  /** Triangles, three vertex indices each. */
  indices: Uint32Array;
}

export interface MeshSource {
  file: string;
  format: "obj" | "gltf" | "glb";
  materials: MeshMaterial[];
  parts: MeshPart[];
  warnings: string[];
}

/** Growable typed array: OBJ files do not say how many vertices they hold. */
export class Float64Builder {
  data = new Float64Array(1024);
  length = 0;
  push3(a: number, b: number, c: number): void {
    if (this.length + 3 > this.data.length) this.grow();
    this.data[this.length++] = a;
    this.data[this.length++] = b;
    this.data[this.length++] = c;
  }
  push2(a: number, b: number): void {
    if (this.length + 2 > this.data.length) this.grow();
    this.data[this.length++] = a;
    this.data[this.length++] = b;
  }
  private grow(): void {
    const next = new Float64Array(this.data.length * 2);
    next.set(this.data);
    this.data = next;
  }
  result(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

export class Uint32Builder {
  data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  result(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

export function sniffImage(bytes: Uint8Array): "image/jpeg" | "image/png" | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  return undefined;
}
