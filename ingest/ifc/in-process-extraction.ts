import type * as WebIfcTypes from "web-ifc";
import { resolveGeoreference } from "./georeference.ts";
import {
  type ElementExtraction,
  type ExtractionOptions,
  IfcExtractionError,
  openBudgetMs,
  type SkippedElement,
} from "./ifc-extraction.ts";
import { IfcModelError, IfcModelReader } from "./ifc-model-reader.ts";
import type { ModelInfo, PlacedElementData } from "./ifc-types.ts";
import { placeElement } from "./place-element.ts";
import type { StepEntities } from "./step-entities.ts";
import { runWithTimeLimit, TimeLimitExceeded } from "./time-limit.ts";
import { loadWebIfc, saveWebIfcCodeCache } from "./web-ifc-runtime.ts";

const WebIFC = loadWebIfc();

/** Products are meshed in steps of about this long, each under one time limit (see elements()). */
const STEP_MS = 250;
/** Products per StreamMeshes call. */
const CHUNK = 64;

/**
 * Meshes the model on the calling thread with one web-ifc instance. On a machine with few cores, or for a file that
 * meshes in a second or two, this beats worker threads: a worker costs its start-up, its own copy of web-ifc and of
 * the model, and a copy of every mesh on the way back, which the parallel meshing does not win back.
 * The per-element budget still holds: see elements().
 */
export class InProcessExtraction implements ElementExtraction {
  info!: ModelInfo;
  readonly skipped: SkippedElement[] = [];
  private api: WebIfcTypes.IfcAPI | undefined;
  private reader: IfcModelReader | undefined;
  private model = -1;

  constructor(
    private readonly opts: ExtractionOptions,
    private readonly bytes: Uint8Array,
    private readonly step: StepEntities,
  ) {}

  async open(): Promise<ModelInfo> {
    this.info = await this.openModel();
    return this.info;
  }

  /** A fresh web-ifc instance with the model open: also how a stopped instance is replaced. */
  private async openModel(): Promise<ModelInfo> {
    const api = new WebIFC.IfcAPI();
    await api.Init();
    api.SetLogLevel(WebIFC.LogLevel.LOG_LEVEL_OFF);
    const budget = openBudgetMs(this.opts.fileBytes);
    try {
      return runWithTimeLimit(() => {
        this.model = api.OpenModel(this.bytes, { COORDINATE_TO_ORIGIN: false });
        this.api = api;
        this.reader = new IfcModelReader(api, this.model, this.step);
        return this.reader.readInfo(this.opts.includeSpaces);
      }, budget);
    } catch (err) {
      this.api = undefined;
      this.reader = undefined;
      if (err instanceof TimeLimitExceeded) {
        throw new IfcExtractionError(`web-ifc did not finish reading the model within ${budget / 1000} s`);
      }
      throw asExtractionError(err);
    }
  }

  /**
   * Elements in product order; null for products that turned out to have no triangles. Products are meshed in
   * steps: a step starts products for at most STEP_MS and runs under a limit of STEP_MS + the element budget, so a
   * product still running when the limit strikes has run longer than its budget. The web-ifc instance, which may
   * have been stopped anywhere, is then replaced by a new one with the model open again.
   * One limit per step rather than per product keeps the limit's own cost (a watchdog thread) out of the profile,
   * and within a step products are meshed CHUNK at a time by StreamMeshes, a quarter faster than one GetFlatMesh
   * call each. Which product of a chunk stalled is not known, so a stopped chunk is meshed again one product at a
   * time: the stalling product costs its budget twice and is skipped.
   */
  async *elements(): AsyncGenerator<{ index: number; element: PlacedElementData | null }> {
    const ids = this.info.productIds;
    const geo = resolveGeoreference(this.info, this.opts.georeference);
    // Fault injection for the watchdog's test: an element that never finishes, as a pathological one would.
    const stallOn = Number(process.env.CIM_TEST_STALL_ELEMENT ?? Number.NaN);
    let next = 0;
    /** Products before this one are meshed one at a time (the rest of a chunk that was stopped). */
    let singlesUntil = 0;
    while (next < ids.length) {
      const done: { index: number; element: PlacedElementData | null }[] = [];
      let current = next;
      const reader = this.reader!;
      try {
        runWithTimeLimit(() => {
          const started = performance.now();
          while (next < ids.length && performance.now() - started < STEP_MS) {
            current = next;
            if (next < singlesUntil) {
              if (ids[current] === stallOn) for (;;);
              const meshed = reader.extract(ids[current]);
              done.push({ index: current, element: meshed ? placeElement(meshed, geo) : null });
              next = current + 1;
              continue;
            }
            const chunk = ids.slice(next, next + CHUNK);
            if (chunk.includes(stallOn)) for (;;);
            const placed = new Map<number, PlacedElementData | null>();
            reader.streamMeshes(chunk, (mesh) => {
              const meshed = reader.extract(mesh.expressID, mesh);
              placed.set(mesh.expressID, meshed ? placeElement(meshed, geo) : null);
            });
            for (let k = 0; k < chunk.length; k++) {
              done.push({ index: next + k, element: placed.get(chunk[k]) ?? null });
            }
            next += chunk.length;
          }
        }, STEP_MS + this.opts.elementTimeoutMs);
      } catch (err) {
        if (!(err instanceof TimeLimitExceeded)) throw asExtractionError(err);
        if (current >= singlesUntil) {
          // A chunk was stopped: mesh it again one product at a time to find the one that stalls.
          next = current;
          singlesUntil = Math.min(ids.length, current + CHUNK);
        } else {
          this.skipped.push({
            expressId: ids[current],
            reason: `geometry took longer than ${this.opts.elementTimeoutMs / 1000} s`,
          });
          next = current + 1;
        }
        // Not closed: code stopped mid-call may have left the instance unusable; it is dropped whole.
        this.api = undefined;
        this.reader = undefined;
        await this.openModel();
      }
      yield* done;
    }
    // The meshes are all out: web-ifc's memory (the model and its geometry) can go before the tiles are written.
    this.release();
    saveWebIfcCodeCache();
  }

  private release(): void {
    if (this.api && this.model >= 0) this.api.CloseModel(this.model);
    this.api = undefined;
    this.reader = undefined;
    this.model = -1;
  }

  async close(): Promise<void> {
    this.release();
  }
}

function asExtractionError(err: unknown): IfcExtractionError {
  if (err instanceof IfcExtractionError) return err;
  if (err instanceof IfcModelError) return new IfcExtractionError(err.message, err.entityId);
  return new IfcExtractionError(`web-ifc failed: ${(err as Error).message}`);
}
