import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { spawnTsWorker } from "../workers/spawn-ts-worker.ts";
import type {
  GeoreferenceRequest,
  ModelInfo,
  PlacedElementData,
  WorkerReply,
  WorkerRequest,
} from "./ifc-types.ts";

export interface ExtractionOptions {
  path: string;
  fileBytes: number;
  includeSpaces: boolean;
  /** An element whose geometry takes longer than this is skipped (and reported). */
  elementTimeoutMs: number;
  /** Worker threads meshing in parallel, each with its own copy of the model (default: cores, at most 4). */
  workers?: number;
  /** Flags for the georeference the workers place elements with (the model's own comes first). */
  georeference: GeoreferenceRequest;
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

/** What the ingest needs from a way of running web-ifc (worker threads or the calling thread). */
export interface ElementExtraction {
  readonly skipped: SkippedElement[];
  open(): Promise<ModelInfo>;
  elements(): AsyncGenerator<{ index: number; element: PlacedElementData | null }>;
  close(): Promise<void>;
}

/** Opening a model may take a while for big files, but never forever (a malformed file must end). */
export const openBudgetMs = (bytes: number) => 8000 + (bytes / 1e6) * 1500;

/** One worker meshing products taken from the shared counter. */
interface Lane {
  worker: Worker;
  /** The product it works on since `lastBegin` (0: none yet). */
  current: number;
  lastBegin: number;
  done: boolean;
}

/**
 * Drives web-ifc in worker threads with a watchdog. web-ifc's calls cannot be interrupted, so an element that
 * does not finish within its budget costs its worker, which is replaced (the model re-opened) and the element
 * skipped. Geometry generation dominates ingest time, so the products are shared out over several workers.
 */
export class IfcExtraction implements ElementExtraction {
  info!: ModelInfo;
  readonly skipped: SkippedElement[] = [];
  private readonly lanes: Lane[] = [];
  private readonly workerCount: number;

  constructor(private readonly opts: ExtractionOptions) {
    this.workerCount = Math.max(1, opts.workers ?? Math.min(4, availableParallelism()));
  }

  async open(): Promise<ModelInfo> {
    // Large files are worth opening the extra copies alongside the first; small ones get one worker.
    const lanes = this.opts.fileBytes > 1_000_000 ? this.workerCount : 1;
    const settled = await Promise.allSettled(Array.from({ length: lanes }, () => this.startWorker()));
    const failed = settled.find((r) => r.status === "rejected");
    const opened = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    if (failed) {
      await Promise.all(opened.map((o) => o.worker.terminate()));
      throw failed.reason;
    }
    this.info = opened[0].info;
    for (const { worker } of opened) this.lanes.push({ worker, current: -1, lastBegin: 0, done: false });
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
  async *elements(): AsyncGenerator<{ index: number; element: PlacedElementData | null }> {
    const next = new SharedArrayBuffer(4);
    const queue: ({ index: number; element: PlacedElementData | null } | Error)[] = [];
    let wake: (() => void) | undefined;
    const notify = () => wake?.();

    const run = (l: Lane) => {
      l.lastBegin = 0;
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
      l.worker.postMessage({
        cmd: "mesh",
        next,
        georeference: this.opts.georeference,
      } satisfies WorkerRequest);
    };
    for (const l of this.lanes) run(l);

    let restarting = 0;
    const watchdog = setInterval(() => {
      for (const l of this.lanes) {
        if (l.done || l.lastBegin === 0 || Date.now() - l.lastBegin <= this.opts.elementTimeoutMs) continue;
        // The worker is stuck in element `current`: replace it; the new one goes on with the products left.
        this.skipped.push({
          expressId: this.info.productIds[l.current],
          reason: `geometry took longer than ${this.opts.elementTimeoutMs / 1000} s`,
        });
        l.lastBegin = 0;
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
