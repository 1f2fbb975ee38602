type NumericArray = Float64Array | Float32Array | Uint32Array | Uint16Array;

/** A typed array that grows by doubling: meshes and columns are built without knowing their size in advance. */
export class Growable<T extends NumericArray> {
  data: T;
  length = 0;

  constructor(
    private readonly make: (n: number) => T,
    capacity = 1024,
  ) {
    this.data = make(capacity);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = this.make(size);
    next.set(this.data);
    this.data = next;
  }

  push(v: number): void {
    this.reserve(1);
    this.data[this.length++] = v;
  }

  push3(a: number, b: number, c: number): void {
    this.reserve(3);
    this.data[this.length++] = a;
    this.data[this.length++] = b;
    this.data[this.length++] = c;
  }

  /** A right-sized copy of the contents. */
  view(): T {
    return this.data.slice(0, this.length) as T;
  }
}

export const growableF64 = (capacity?: number) => new Growable((n) => new Float64Array(n), capacity);
export const growableF32 = (capacity?: number) => new Growable((n) => new Float32Array(n), capacity);
export const growableU32 = (capacity?: number) => new Growable((n) => new Uint32Array(n), capacity);
