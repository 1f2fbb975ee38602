import sharp from "sharp";
import { MeshInputError, type MeshTexture, sniffImage } from "./mesh-source.ts";

/** Image bytes as a texture: JPEG and PNG are kept as they are, anything else sharp reads becomes PNG. */
export async function loadTexture(bytes: Uint8Array, source: string): Promise<MeshTexture> {
  let mime = sniffImage(bytes);
  try {
    if (!mime) {
      bytes = new Uint8Array(await sharp(bytes).png().toBuffer());
      mime = "image/png";
    }
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height) throw new Error("no image size");
    return { source, bytes, mime, width: meta.width, height: meta.height };
  } catch (e) {
    throw new MeshInputError(`${source}: cannot read texture image: ${(e as Error).message}`);
  }
}

export interface TextureWindow {
  /** Pixel rectangle of the full-resolution texture the tile uses. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Size written, after downsampling by 2^level. */
  outWidth: number;
  outHeight: number;
}

/**
 * The part of a texture a tile's UVs reach, with a margin of two output texels so that bilinear filtering at the
 * window's edge samples real neighbours; null when the UVs wrap (repeat) and the whole image is needed.
 */
export function textureWindow(
  tex: MeshTexture,
  uMin: number,
  vMin: number,
  uMax: number,
  vMax: number,
  level: number,
): TextureWindow {
  const scale = 2 ** level;
  const margin = 2 * scale;
  const wraps = uMin < -1e-4 || vMin < -1e-4 || uMax > 1 + 1e-4 || vMax > 1 + 1e-4;
  let left = 0;
  let top = 0;
  let right = tex.width;
  let bottom = tex.height;
  if (!wraps) {
    left = Math.max(0, Math.floor(uMin * tex.width) - margin);
    top = Math.max(0, Math.floor(vMin * tex.height) - margin);
    right = Math.min(tex.width, Math.ceil(uMax * tex.width) + margin);
    bottom = Math.min(tex.height, Math.ceil(vMax * tex.height) + margin);
  }
  const width = Math.max(1, right - left);
  const height = Math.max(1, bottom - top);
  return {
    left,
    top,
    width,
    height,
    outWidth: Math.max(1, Math.round(width / scale)),
    outHeight: Math.max(1, Math.round(height / scale)),
  };
}

/** Crops and downsamples (Lanczos, sharp's default) into the source's encoding. */
export async function renderTexture(tex: MeshTexture, w: TextureWindow): Promise<Uint8Array> {
  let img = sharp(tex.bytes);
  if (w.left !== 0 || w.top !== 0 || w.width !== tex.width || w.height !== tex.height)
    img = img.extract({ left: w.left, top: w.top, width: w.width, height: w.height });
  if (w.outWidth !== w.width || w.outHeight !== w.height)
    img = img.resize(w.outWidth, w.outHeight, { fit: "fill" });
  else if (w.width === tex.width && w.height === tex.height) return tex.bytes;
  const out =
    tex.mime === "image/jpeg" ? await img.jpeg({ quality: 88 }).toBuffer() : await img.png().toBuffer();
  return new Uint8Array(out);
}
