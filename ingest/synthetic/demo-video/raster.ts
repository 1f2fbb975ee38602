import { fonts, renderPixels } from "js-pixel-fonts";

export type Rgb = readonly [number, number, number];
export type Point = readonly [number, number];

/**
 * A minimal RGBA frame buffer with the three operations the synthetic camera scene needs: solid
 * polygons, rectangles and pixel-font text. Written by hand because the pure-JS canvas
 * implementations on npm are one to two orders of magnitude slower per frame and ship no font, and
 * the native ones (node-canvas, skia) need system libraries or fonts that a fresh machine may lack.
 * No anti-aliasing: the H.264 encoder smooths edges enough for a demo clip.
 */
export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 4);
  }

  copyFrom(other: Raster): void {
    this.data.set(other.data);
  }

  /** Alpha in 0..1 blends over what is there (for the on-screen display's translucent boxes). */
  fillRect(x0: number, y0: number, x1: number, y1: number, color: Rgb, alpha = 1): void {
    const xa = Math.max(0, Math.round(Math.min(x0, x1)));
    const xb = Math.min(this.width, Math.round(Math.max(x0, x1)));
    const ya = Math.max(0, Math.round(Math.min(y0, y1)));
    const yb = Math.min(this.height, Math.round(Math.max(y0, y1)));
    for (let y = ya; y < yb; y++) this.span(y, xa, xb, color, alpha);
  }

  /** Scanline fill of a simple polygon (even-odd), clipped to the frame. */
  fillPolygon(points: readonly Point[], color: Rgb, alpha = 1): void {
    if (points.length < 3) return;
    let minY = Number.POSITIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (const [, y] of points) {
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
    const ya = Math.max(0, Math.ceil(minY - 0.5));
    const yb = Math.min(this.height - 1, Math.floor(maxY - 0.5));
    const xs: number[] = [];
    for (let y = ya; y <= yb; y++) {
      const sy = y + 0.5;
      xs.length = 0;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        const [xi, yi] = points[i];
        const [xj, yj] = points[j];
        if (yi <= sy !== yj <= sy) xs.push(xi + ((sy - yi) / (yj - yi)) * (xj - xi));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const xa = Math.max(0, Math.ceil(xs[k] - 0.5));
        const xb = Math.min(this.width, Math.ceil(xs[k + 1] - 0.5));
        this.span(y, xa, xb, color, alpha);
      }
    }
  }

  /** Text in the 7-pixel "sevenPlus" font (upper case, digits, punctuation), scaled by an integer. */
  text(x: number, y: number, text: string, color: Rgb, scale = 2): number {
    const rows = renderPixels(text.toUpperCase(), fonts.sevenPlus);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      for (let c = 0; c < row.length; c++) {
        if (row[c])
          this.fillRect(x + c * scale, y + r * scale, x + (c + 1) * scale, y + (r + 1) * scale, color);
      }
    }
    return (rows[0]?.length ?? 0) * scale;
  }

  textWidth(text: string, scale = 2): number {
    return (renderPixels(text.toUpperCase(), fonts.sevenPlus)[0]?.length ?? 0) * scale;
  }

  private span(y: number, xa: number, xb: number, [r, g, b]: Rgb, alpha: number): void {
    const d = this.data;
    let i = (y * this.width + xa) * 4;
    const end = (y * this.width + xb) * 4;
    if (alpha >= 1) {
      for (; i < end; i += 4) {
        d[i] = r;
        d[i + 1] = g;
        d[i + 2] = b;
        d[i + 3] = 255;
      }
      return;
    }
    const keep = 1 - alpha;
    for (; i < end; i += 4) {
      d[i] = d[i] * keep + r * alpha;
      d[i + 1] = d[i + 1] * keep + g * alpha;
      d[i + 2] = d[i + 2] * keep + b * alpha;
      d[i + 3] = 255;
    }
  }
}
