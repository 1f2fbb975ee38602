import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { spawnTsWorker } from "../workers/spawn-ts-worker.ts";
import type { ElementData, ModelInfo, WorkerReply, WorkerRequest } from "./ifc-types.ts";

export interface ExtractionOptions {
  path: string;
  fileBytes: number;
  includeSpaces: boolean;
  /** An element whose geometry takes longer than this is skipped (and reported). */
  elementTimeoutMs: number;
  /** Worker threads meshing in parallel, each with its own copy of the model (default: cores, at most 4). */
  workers?: number;
}

export interface SkippedElement {
  expressId: number;
  reason: string;
}

export class IfcExtractionError extends Error {
  constructor(
    message: string,
    readonly entityId?: number,
  ) {
    super(message);
  }
}

/** Opening a model may take a while for big files, but never forever (a malformed file must end). */
const openBudgetMs = (bytes: number) => 8000 + (bytes / 1e6) * 1500;

/** One worker's share: products lane, lane + stride, ... */
interface Lane {
  lane: number;
  worker: Worker;
  next: number;
  current: number;
  lastBegin: number;
  done: boolean;
}

/**
 * Drives web-ifc in worker threads with a watchdog. web-ifc's calls cannot be interrupted, so an element that
 * does not finish within its budget costs its worker, which is replaced (the model re-opened) and the element
 * skipped. Geometry generation dominates ingest time, so the products are shared out over several workers.
 */
export class IfcExtraction {
  info!: ModelInfo;
  readonly skipped: SkippedElement[] = [];
  private readonly lanes: Lane[] = [];
  private readonly stride: number;

  constructor(private readonly opts: ExtractionOptions) {
    this.stride = Math.max(1, opts.workers ?? Math.min(4, availableParallelism()));
  }

  async open(): Promise<ModelInfo> {
    // Large files are worth opening the extra copies alongside the first; small ones get one worker.
    const lanes = this.opts.fileBytes > 1_000_000 ? this.stride : 1;
    const settled = await Promise.allSettled(Array.from({ length: lanes }, () => this.startWorker()));
    const failed = settled.find((r) => r.status === "rejected");
    const opened = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    if (failed) {
      await Promise.all(opened.map((o) => o.worker.terminate()));
      throw failed.reason;
    }
    this.info = opened[0].info;
    opened.forEach(({ worker }, lane) => {
      this.lanes.push({ lane, worker, next: lane, current: lane, lastBegin: 0, done: false });
    });
    return this.info;
  }

  private startWorker(): Promise<{ worker: Worker; info: ModelInfo }> {
    const worker = spawnTsWorker(new URL("./ifc-worker.ts", import.meta.url));
    const budget = openBudgetMs(this.opts.fileBytes);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new IfcExtractionError(`web-ifc did not finish reading the model within ${budget / 1000} s`));
      }, budget);
      worker.once("error", (err) => {
        clearTimeout(timer);
        reject(new IfcExtractionError(`web-ifc failed: ${err.message}`));
      });
      worker.once("message", (msg: WorkerReply) => {
        clearTimeout(timer);
        if (msg.type === "opened") resolve({ worker, info: msg.info });
        else if (msg.type === "error") reject(new IfcExtractionError(msg.message, msg.entityId));
        else reject(new IfcExtractionError(`unexpected worker reply ${msg.type}`));
      });
      worker.postMessage({
        cmd: "open",
        path: this.opts.path,
        includeSpaces: this.opts.includeSpaces,
      } satisfies WorkerRequest);
    });
  }

  /** Elements as the workers finish them; null for products that turned out to have no triangles. */
  async *elements(): AsyncGenerator<{ index: number; element: ElementData | null }> {
    const stride = this.lanes.length;
    const total = this.info.productIds.length;
    const queue: ({ index: number; element: ElementData | null } | Error)[] = [];
    let wake: (() => void) | undefined;
    const notify = () => wake?.();

    const run = (l: Lane) => {
      if (l.next >= total) {
        l.done = true;
        return;
      }
      l.current = l.next;
      l.lastBegin = Date.now();
      l.worker.on("message", (msg: WorkerReply) => {
        if (msg.type === "begin") {
          l.current = msg.index;
          l.lastBegin = Date.now();
        } else if (msg.type === "element") queue.push({ index: msg.index, element: msg.element });
        else if (msg.type === "done") l.done = true;
        else if (msg.type === "error") queue.push(new IfcExtractionError(msg.message, msg.entityId));
        notify();
      });
      l.worker.on("error", (err) => {
        queue.push(new IfcExtractionError(`web-ifc failed: ${err.message}`));
        notify();
      });
      l.worker.postMessage({ cmd: "mesh", from: l.next, stride } satisfies WorkerRequest);
    };
    for (const l of this.lanes) run(l);

    let restarting = 0;
    const watchdog = setInterval(() => {
      for (const l of this.lanes) {
        if (l.done || l.lastBegin === 0 || Date.now() - l.lastBegin <= this.opts.elementTimeoutMs) continue;
        // The worker is stuck in element `current`: replace it and go on after that element.
        this.skipped.push({
          expressId: this.info.productIds[l.current],
          reason: `geometry took longer than ${this.opts.elementTimeoutMs / 1000} s`,
        });
        l.lastBegin = 0;
        l.next = l.current + stride;
        const stuck = l.worker;
        stuck.removeAllListeners();
        restarting++;
        void stuck
          .terminate()
          .then(() => this.startWorker())
          .then(({ worker }) => {
            l.worker = worker;
            run(l);
          })
          .catch((err: Error) => queue.push(err))
          .finally(() => {
            restarting--;
            notify();
          });
      }
    }, 100);
    try {
      for (;;) {
        while (queue.length > 0) {
          const item = queue.shift()!;
          if (item instanceof Error) throw item;
          yield item;
        }
        if (restarting === 0 && this.lanes.every((l) => l.done)) return;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    } finally {
      clearInterval(watchdog);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
  }
}
