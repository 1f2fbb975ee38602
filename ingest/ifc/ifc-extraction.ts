import type { Worker } from "node:worker_threads";
import { spawnTsWorker } from "../workers/spawn-ts-worker.ts";
import type { ElementData, ModelInfo, WorkerReply, WorkerRequest } from "./ifc-types.ts";

export interface ExtractionOptions {
  path: string;
  fileBytes: number;
  includeSpaces: boolean;
  /** An element whose geometry takes longer than this is skipped (and reported). */
  elementTimeoutMs: number;
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

/**
 * Drives web-ifc in a worker thread with a watchdog: web-ifc's calls cannot be interrupted, so an element that
 * does not finish within its budget costs the worker, which is replaced (the model re-opened) and the
 * element skipped.
 */
export class IfcExtraction {
  info!: ModelInfo;
  readonly skipped: SkippedElement[] = [];
  private worker?: Worker;

  constructor(private readonly opts: ExtractionOptions) {}

  async open(): Promise<ModelInfo> {
    this.info = await this.start();
    return this.info;
  }

  private start(): Promise<ModelInfo> {
    this.worker = spawnTsWorker(new URL("./ifc-worker.ts", import.meta.url));
    const worker = this.worker;
    return new Promise<ModelInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(
          new IfcExtractionError(
            `web-ifc did not finish reading the model within ${openBudgetMs(this.opts.fileBytes) / 1000} s`,
          ),
        );
      }, openBudgetMs(this.opts.fileBytes));
      worker.once("error", (err) => {
        clearTimeout(timer);
        reject(new IfcExtractionError(`web-ifc failed: ${err.message}`));
      });
      worker.once("message", (msg: WorkerReply) => {
        clearTimeout(timer);
        if (msg.type === "opened") resolve(msg.info);
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

  /** Elements in file order; null for products that turned out to have no triangles. */
  async *elements(): AsyncGenerator<{ index: number; element: ElementData | null }> {
    let from = 0;
    const total = this.info.productIds.length;
    while (from < total) {
      const queue: WorkerReply[] = [];
      let wake: (() => void) | undefined;
      let current = from;
      let lastBegin = Date.now();
      let timedOut = false;
      const worker = this.worker!;
      const onMessage = (msg: WorkerReply) => {
        if (msg.type === "begin") {
          current = msg.index;
          lastBegin = Date.now();
        }
        queue.push(msg);
        wake?.();
      };
      const onError = (err: Error) => {
        queue.push({ type: "error", message: err.message });
        wake?.();
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      const watchdog = setInterval(() => {
        if (Date.now() - lastBegin > this.opts.elementTimeoutMs) {
          timedOut = true;
          wake?.();
        }
      }, 100);
      worker.postMessage({ cmd: "mesh", from } satisfies WorkerRequest);
      try {
        for (;;) {
          if (queue.length === 0 && !timedOut) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          if (timedOut && queue.length === 0) break;
          const msg = queue.shift()!;
          if (msg.type === "element") yield { index: msg.index, element: msg.element };
          else if (msg.type === "done") return;
          else if (msg.type === "error") throw new IfcExtractionError(msg.message, msg.entityId);
        }
      } finally {
        clearInterval(watchdog);
        worker.off("message", onMessage);
        worker.off("error", onError);
      }
      // The worker is stuck in element `current`: replace it and go on after that element.
      this.skipped.push({
        expressId: this.info.productIds[current],
        reason: `geometry took longer than ${this.opts.elementTimeoutMs / 1000} s`,
      });
      await worker.terminate();
      await this.start();
      from = current + 1;
    }
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
