/**
 * Least-recently-used map bounded by total weight (bytes) and entry count. Relies on Map
 * keeping insertion order: re-inserting on access moves a key to the young end.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private totalWeight = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get weight(): number {
    return this.totalWeight;
  }

  get(key: string): V | undefined {
    const slot = this.entries.get(key);
    if (slot === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, slot);
    return slot.value;
  }

  set(key: string, value: V, weight: number): void {
    this.delete(key);
    if (weight > this.maxWeight) return;
    this.entries.set(key, { value, weight });
    this.totalWeight += weight;
    this.evict();
  }

  /** Adds weight to a present entry (e.g. a compressed variant computed later). */
  addWeight(key: string, value: V, extra: number): void {
    const slot = this.entries.get(key);
    if (slot === undefined || slot.value !== value) return;
    slot.weight += extra;
    this.totalWeight += extra;
    this.evict();
  }

  delete(key: string): void {
    const slot = this.entries.get(key);
    if (slot === undefined) return;
    this.entries.delete(key);
    this.totalWeight -= slot.weight;
  }

  clear(): void {
    this.entries.clear();
    this.totalWeight = 0;
  }

  private evict(): void {
    for (const [key, slot] of this.entries) {
      if (this.totalWeight <= this.maxWeight && this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
      this.totalWeight -= slot.weight;
    }
  }
}
