/**
 * Camera video popup: HLS (.m3u8) through hls.js (Chromium and Firefox have no native HLS; hls.js feeds
 * the segments to Media Source Extensions), MP4 and anything else the browser plays natively through a
 * plain <video>. hls.js is loaded on first use, so pages that never open a video never download it.
 *
 * ```ts
 * const popup = openVideoPopup(document.body, { url: "/media/demo-camera/index.m3u8", title: "CAM-01" });
 * popup.close(); // stops loading, destroys the hls.js instance, removes the element
 * ```
 *
 * DOM contract (tests rely on it): `.video-popup[data-status=loading|playing|error][data-kind=hls|native]`
 * holding `.video-popup-title`, `.video-popup-close`, `video.video-popup-video` and `.video-popup-status`
 * (the loading/error text; `.error` on failure). Escape or the close button closes it. One popup per
 * container: opening another closes the first.
 */
import type Hls from "hls.js";
import type { ErrorData } from "hls.js";
import i18next from "i18next";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import "./video-player.css";

export interface VideoPopupOptions {
  /** Stream URL: an HLS playlist (.m3u8) or a file the browser plays itself (MP4, WebM). */
  url: string;
  /** Shown in the title bar, e.g. the camera's name. */
  title: string;
  /** Start again at the end (a demo camera's short clip standing in for a live feed). Default false. */
  loop?: boolean;
  /** Called once when the popup closes (button, Escape, `close()`, or replaced by another popup). */
  onClose?: () => void;
}

export type VideoStatus = "loading" | "playing" | "error";

export interface VideoPopup {
  readonly element: HTMLElement;
  readonly video: HTMLVideoElement;
  /** "hls" when hls.js drives the element, "native" when the browser reads the URL itself. */
  readonly kind: "hls" | "native";
  status(): VideoStatus;
  /** The message shown to the user when status() is "error". */
  error(): string | null;
  readonly closed: boolean;
  close(): void;
}

const open = new WeakMap<HTMLElement, VideoPopup>();

export function isHlsUrl(url: string): boolean {
  const path = url.split(/[?#]/)[0] ?? "";
  return /\.m3u8$/i.test(path);
}

export function openVideoPopup(container: HTMLElement, opts: VideoPopupOptions): VideoPopup {
  open.get(container)?.close();

  const kind: VideoPopup["kind"] = isHlsUrl(opts.url) && !nativeHls() ? "hls" : "native";
  const closeButton = h("button", { type: "button", class: "video-popup-close" }, "×");
  const video = h("video", {
    class: "video-popup-video",
    // Muted so the browser lets it start without a click (autoplay policy); camera streams rarely carry sound.
    muted: true,
    autoplay: true,
    playsinline: true,
    controls: true,
    preload: "auto",
  });
  video.muted = true;
  video.loop = opts.loop ?? false;
  const statusLine = h("div", { class: "video-popup-status", role: "status" });
  const element = h(
    "section",
    { class: "panel video-popup", "data-kind": kind, role: "dialog", tabindex: -1 },
    h(
      "div",
      { class: "panel-header" },
      h("h2", { class: "panel-title video-popup-title" }, opts.title),
      closeButton,
    ),
    h("div", { class: "video-popup-frame" }, video),
    statusLine,
  );
  element.setAttribute("aria-label", opts.title);

  let status: VideoStatus = "loading";
  let errorText: string | null = null;
  let errorKey: { key: string; args: Record<string, unknown> } | null = null;
  let hls: Hls | undefined;
  let mediaRecoveryTried = false;
  let closed = false;

  const render = () => {
    closeButton.title = t("video.close");
    closeButton.setAttribute("aria-label", closeButton.title);
    element.dataset.status = status;
    if (errorKey) errorText = t(errorKey.key, errorKey.args);
    statusLine.textContent =
      status === "loading" ? t("video.loading") : status === "error" ? (errorText ?? "") : "";
    statusLine.classList.toggle("error", status === "error");
    statusLine.hidden = status === "playing";
  };
  const fail = (key: string, args: Record<string, unknown>) => {
    if (closed) return;
    status = "error";
    errorKey = { key, args };
    render();
  };

  video.addEventListener("playing", () => {
    if (status === "error") return;
    status = "playing";
    render();
  });
  video.addEventListener("waiting", () => {
    if (status === "playing") {
      status = "loading";
      render();
    }
  });
  video.addEventListener("error", () => {
    // With hls.js the element's own errors are reported (with more detail) through hls.js.
    if (kind === "native") fail(...describeMediaError(video.error));
  });

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") popup.close();
  };
  const langListener = () => render();
  closeButton.addEventListener("click", () => popup.close());
  element.addEventListener("keydown", onKey);
  i18next.on("languageChanged", langListener);

  const popup: VideoPopup = {
    element,
    video,
    kind,
    status: () => status,
    error: () => (status === "error" ? errorText : null),
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      i18next.off("languageChanged", langListener);
      hls?.destroy();
      hls = undefined;
      video.pause();
      // Dropping the source and reloading releases the decoder and aborts pending range requests.
      video.removeAttribute("src");
      video.load();
      element.remove();
      if (open.get(container) === popup) open.delete(container);
      opts.onClose?.();
    },
  };
  open.set(container, popup);
  container.append(element);
  render();

  const play = () => {
    video.play().catch((err: unknown) => {
      // A pause or close while starting rejects play(): not an error worth showing.
      if (!closed && (err as DOMException)?.name !== "AbortError" && status !== "error")
        fail("video.error", { message: err instanceof Error ? err.message : String(err) });
    });
  };

  if (kind === "native") {
    video.src = opts.url;
    play();
  } else {
    void attachHls(opts.url, video, (instance, data) => {
      if (data.type === "mediaError" && !mediaRecoveryTried) {
        // One recovery attempt: hls.js re-creates the source buffers (fixes most transient decode errors).
        mediaRecoveryTried = true;
        instance.recoverMediaError();
        return;
      }
      fail(...describeHlsError(data));
      instance.destroy();
      if (hls === instance) hls = undefined;
    }).then(
      (instance) => {
        if (closed) {
          instance?.destroy();
          return;
        }
        if (!instance) {
          fail("video.unsupported", { format: "HLS (Media Source Extensions)" });
          return;
        }
        hls = instance;
        play();
      },
      (err: unknown) => fail("video.error", { message: err instanceof Error ? err.message : String(err) }),
    );
  }
  return popup;
}

/** Safari (and iOS) play HLS natively; everywhere else hls.js does it through MSE. */
function nativeHls(): boolean {
  const probe = document.createElement("video");
  return probe.canPlayType("application/vnd.apple.mpegurl") !== "" && !("MediaSource" in window);
}

async function attachHls(
  url: string,
  video: HTMLVideoElement,
  onFatal: (hls: Hls, data: ErrorData) => void,
): Promise<Hls | null> {
  const { default: HlsClass, Events } = await import("hls.js");
  if (!HlsClass.isSupported()) return null;
  const hls = new HlsClass({
    // Camera clips are short; a small forward buffer keeps several open popups light.
    maxBufferLength: 10,
    enableWorker: true,
  });
  hls.on(Events.ERROR, (_event, data) => {
    if (data.fatal) onFatal(hls, data);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return hls;
}

function describeHlsError(data: ErrorData): [string, Record<string, unknown>] {
  const code = data.response?.code;
  const details = code ? `${data.details}, HTTP ${code}` : data.details;
  if (data.type === "networkError") return ["video.network", { details }];
  if (data.type === "mediaError") return ["video.decode", { details }];
  return ["video.error", { message: data.error?.message ?? details }];
}

function describeMediaError(error: MediaError | null): [string, Record<string, unknown>] {
  const details = error?.message || `MediaError ${error?.code ?? "?"}`;
  switch (error?.code) {
    case MediaError.MEDIA_ERR_NETWORK:
      return ["video.network", { details }];
    case MediaError.MEDIA_ERR_DECODE:
      return ["video.decode", { details }];
    case MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED:
      return ["video.unsupported", { format: details }];
    default:
      return ["video.error", { message: details }];
  }
}
