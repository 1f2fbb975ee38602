/** Keeps up to `limit` file writes in flight so encoding overlaps the disk; the first failure is rethrown. */
export class WriteQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  constructor(private readonly limit: number) {}

  async add(write: Promise<unknown>): Promise<void> {
    const tracked: Promise<void> = write.then(
      () => {
        this.inFlight.delete(tracked);
      },
      (err) => {
        this.inFlight.delete(tracked);
        this.failure ??= err;
      },
    );
    this.inFlight.add(tracked);
    if (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}
