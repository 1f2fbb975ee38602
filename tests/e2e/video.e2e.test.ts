import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CAMERA_VIDEO_URL } from "../../cli/demo.ts";
import type { BrowserSession } from "../support/browser.ts";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const MP4_URL = DEMO_CAMERA_VIDEO_URL.replace(/index\.m3u8$/, "clip.mp4");

interface Hook {
  openVideo(url: string, title?: string): void;
}
declare const window: { cimViewer: Hook };

let ctx: DemoSession | undefined;
let session: BrowserSession;
let page: Page;
let pageUrl: string;

interface VideoState {
  popups: number;
  kind: string | undefined;
  status: string | undefined;
  message: string;
  currentTime: number;
  duration: number;
  videoWidth: number;
  videoHeight: number;
}

const videoState = () =>
  page.evaluate((): VideoState => {
    const popup = document.querySelector<HTMLElement>(".video-popup");
    const video = popup?.querySelector("video");
    return {
      popups: document.querySelectorAll(".video-popup").length,
      kind: popup?.dataset.kind,
      status: popup?.dataset.status,
      message: popup?.querySelector(".video-popup-status")?.textContent ?? "",
      currentTime: video?.currentTime ?? Number.NaN,
      duration: video?.duration ?? Number.NaN,
      videoWidth: video?.videoWidth ?? 0,
      videoHeight: video?.videoHeight ?? 0,
    };
  });

/** Mean and spread of the luminance of the frame the <video> shows, read back through a 2D canvas. */
const frameLuminance = () =>
  page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>(".video-popup video")!;
    const canvas = document.createElement("canvas");
    canvas.width = 160;
    canvas.height = 90;
    const g = canvas.getContext("2d")!;
    g.drawImage(video, 0, 0, canvas.width, canvas.height);
    const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    let sq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2];
      sum += y;
      sq += y * y;
    }
    const mean = sum / n;
    return { mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
  });

async function screenshotPopup(name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, `video-${name}.png`), await page.screenshot({ type: "png" }));
}

async function waitForStatus(status: string): Promise<void> {
  await page.waitForFunction(
    (s) => document.querySelector<HTMLElement>(".video-popup")?.dataset.status === s,
    { timeout: 60_000, polling: 100 },
    status,
  );
}

/**
 * Rewinds and plays (a busy machine may have played the whole 10 s clip while the page caught up),
 * then lets it play for 2 s and returns how far the position moved and the wall-clock time that
 * really passed, both measured inside the page.
 */
async function playbackAdvance(): Promise<{ before: number; after: number; wall: number }> {
  await page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>(".video-popup video")!;
    v.currentTime = 0;
    void v.play();
  });
  await page.waitForFunction(
    () => {
      const v = document.querySelector<HTMLVideoElement>(".video-popup video")!;
      return !v.seeking && !v.paused && v.currentTime > 0.1 && v.currentTime < 5;
    },
    { timeout: 30_000, polling: 50 },
  );
  return page.evaluate(async () => {
    const v = document.querySelector<HTMLVideoElement>(".video-popup video")!;
    const t0 = performance.now();
    const before = v.currentTime;
    await new Promise((r) => setTimeout(r, 2000));
    return { before, after: v.currentTime, wall: (performance.now() - t0) / 1000 };
  });
}

/** Playback moved by more than a second in about two, and not faster than real time. */
function expectRealTimePlayback({
  before,
  after,
  wall,
}: {
  before: number;
  after: number;
  wall: number;
}): void {
  const advance = after - before;
  expect(advance, `currentTime ${before} -> ${after} in ${wall.toFixed(2)} s`).toBeGreaterThan(1);
  expect(advance).toBeLessThan(wall + 0.5);
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-video-");
  ({ session, page, pageUrl } = ctx);
  await openViewerPage(page, pageUrl);
});

afterAll(async () => {
  await ctx?.close();
});

describe("camera video popup", () => {
  it("serves the demo clip with HLS content types and byte ranges", async () => {
    const playlist = await fetch(new URL(DEMO_CAMERA_VIDEO_URL, pageUrl));
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get("content-type")).toMatch(/^application\/vnd\.apple\.mpegurl/);
    expect(await playlist.text()).toMatch(/#EXT-X-ENDLIST/);
    const segment = await fetch(new URL(DEMO_CAMERA_VIDEO_URL.replace("index.m3u8", "seg-000.m4s"), pageUrl));
    expect(segment.headers.get("content-type")).toBe("video/iso.segment");
    const range = await fetch(new URL(MP4_URL, pageUrl), { headers: { Range: "bytes=0-99" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-type")).toBe("video/mp4");
    expect(range.headers.get("content-range")).toMatch(/^bytes 0-99\/\d+$/);
    expect((await range.arrayBuffer()).byteLength).toBe(100);
    const missing = await fetch(new URL("/media/demo-camera/nope.m3u8", pageUrl));
    expect(missing.status).toBe(404);
  });

  it("plays the demo HLS stream through hls.js: the frame shows the street and time advances", async () => {
    const t0 = Date.now();
    await page.evaluate((url) => window.cimViewer.openVideo(url, "CAM-01 演示街道"), DEMO_CAMERA_VIDEO_URL);
    await waitForStatus("playing");
    console.log(`HLS popup playing ${Date.now() - t0} ms after opening`);
    const state = await videoState();
    expect(state.kind).toBe("hls");
    expect([state.videoWidth, state.videoHeight]).toEqual([640, 360]);
    expect(state.duration).toBeCloseTo(10, 1);
    const advance = await playbackAdvance();
    console.log(`HLS playback: ${JSON.stringify(advance)}`);
    expectRealTimePlayback(advance);
    await screenshotPopup("hls");
    const luma = await frameLuminance();
    // A black or blank frame has a near-zero spread; the street scene has sky, asphalt and buildings.
    expect(luma.mean).toBeGreaterThan(40);
    expect(luma.std).toBeGreaterThan(25);

    const urls = session.requests.map((r) => r.url);
    for (const file of ["index.m3u8", "init.mp4", "seg-000.m4s", "seg-001.m4s"])
      expect(
        urls.some((u) => u.endsWith(`/media/demo-camera/${file}`)),
        file,
      ).toBe(true);
  });

  it("plays an MP4 URL natively in the same popup, replacing the previous one", async () => {
    await page.evaluate((url) => window.cimViewer.openVideo(url, "CAM-01 MP4"), MP4_URL);
    await waitForStatus("playing");
    const state = await videoState();
    expect(state.popups).toBe(1);
    expect(state.kind).toBe("native");
    expect(state.videoWidth).toBe(640);
    expectRealTimePlayback(await playbackAdvance());
  });

  it("shows an error naming the failure for a stream that does not exist", async () => {
    await page.evaluate(() => window.cimViewer.openVideo("/media/demo-camera/missing.m3u8", "CAM-404"));
    await waitForStatus("error");
    const state = await videoState();
    expect(state.message).toContain("无法获取视频流");
    expect(state.message).toContain("manifestLoadError");
    expect(state.message).toContain("404");
    await screenshotPopup("error");
  });

  it("closes: the element is removed and the video released", async () => {
    await page.evaluate((url) => window.cimViewer.openVideo(url, "CAM-01"), DEMO_CAMERA_VIDEO_URL);
    await waitForStatus("playing");
    await page.evaluate(() => {
      (window as unknown as { closedVideo: HTMLVideoElement }).closedVideo =
        document.querySelector<HTMLVideoElement>(".video-popup video")!;
    });
    await page.click(".video-popup-close");
    const after = await page.evaluate(() => {
      const v = (window as unknown as { closedVideo: HTMLVideoElement }).closedVideo;
      return {
        popups: document.querySelectorAll(".video-popup").length,
        paused: v.paused,
        src: v.getAttribute("src"),
        // Released: no source, nothing buffered, no decoder.
        networkState: v.networkState,
        readyState: v.readyState,
      };
    });
    expect(after).toMatchObject({ popups: 0, paused: true, src: null, readyState: 0 });
    // NETWORK_EMPTY or NETWORK_NO_SOURCE: nothing is loading any more (not IDLE with data, not LOADING).
    expect([0, 3]).toContain(after.networkState);
  });

  it("made no request beyond this machine", () => {
    expect(session.externalRequests(pageUrl)).toEqual([]);
  });
});
