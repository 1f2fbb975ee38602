/**
 * Nearest-point lookup within a fixed tolerance, on a uniform grid whose cell is the tolerance: a query looks at
 * the 3 x 3 cells around it. Hand-written: the tolerance is fixed and items are added while querying, which a
 * dozen lines of hashing serve better than a general spatial index (kd-trees such as kdbush are static).
 */
export class SnapIndex<T> {
  /** Column → row → items; numeric keys (no string building) as the index holds every node of a network. */
  private readonly columns = new Map<number, Map<number, { x: number; y: number; item: T }[]>>();

  constructor(private readonly tolerance: number) {
    if (!(tolerance > 0)) throw new Error(`snap tolerance must be positive, got ${tolerance}`);
  }

  add(x: number, y: number, item: T): void {
    const i = Math.floor(x / this.tolerance);
    const j = Math.floor(y / this.tolerance);
    let column = this.columns.get(i);
    if (!column) {
      column = new Map();
      this.columns.set(i, column);
    }
    const cell = column.get(j);
    if (cell) cell.push({ x, y, item });
    else column.set(j, [{ x, y, item }]);
  }

  /** The nearest accepted item no farther than the tolerance, or undefined. */
  nearest(x: number, y: number, accept?: (item: T) => boolean): { item: T; distance: number } | undefined {
    const ci = Math.floor(x / this.tolerance);
    const cj = Math.floor(y / this.tolerance);
    let best: { item: T; distance: number } | undefined;
    for (let i = ci - 1; i <= ci + 1; i++) {
      const column = this.columns.get(i);
      if (!column) continue;
      for (let j = cj - 1; j <= cj + 1; j++) {
        for (const e of column.get(j) ?? []) {
          const d = Math.hypot(e.x - x, e.y - y);
          if (d <= this.tolerance && (!best || d < best.distance) && (!accept || accept(e.item)))
            best = { item: e.item, distance: d };
        }
      }
    }
    return best;
  }
}
