import type { Viewer } from "cesium";
import i18next from "i18next";
import type { Camera } from "../../../models/cameras.ts";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { openVideoPopup, type VideoPopup } from "../video/video-player.ts";
import { fetchTodayAvailability } from "./api.ts";
import { STATUS_COLORS } from "./camera-icon.ts";
import { VideoProjection } from "./video-projection.ts";
import "./cameras.css";

/**
 * A camera's popup: its video (video-player.ts) with name, status and today's 完好率 above it, and the
 * 视频融合 button that projects that same <video> onto the scene. Closing the popup ends the projection.
 */
export class CameraPopups {
  private popup: VideoPopup | undefined;
  private projectionNow: VideoProjection | undefined;
  private cameraNow: Camera | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly viewer: Viewer,
    private readonly container: HTMLElement = document.body,
  ) {}

  get camera(): Camera | undefined {
    return this.cameraNow;
  }

  get projection(): VideoProjection | undefined {
    return this.projectionNow;
  }

  /** Called when the open camera or the projection changes (the layer shows that camera's frustum). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  open(camera: Camera): void {
    this.popup?.close();
    const info = h("div", { class: "camera-info" });
    const projectButton = h("button", { type: "button", class: "camera-project" });
    const popup = openVideoPopup(this.container, {
      url: camera.streamUrl ?? "",
      title: camera.name,
      // A recorded clip standing in for a live feed keeps playing.
      loop: true,
      onClose: () => {
        stopLang();
        this.setProjection(undefined);
        if (this.popup === popup) {
          this.popup = undefined;
          this.cameraNow = undefined;
          this.changed();
        }
      },
    });
    popup.element.classList.add("camera-popup");
    popup.element.dataset.cameraId = camera.id;
    popup.element.querySelector(".panel-header")?.after(info);
    popup.element.append(h("div", { class: "camera-actions" }, projectButton));
    this.popup = popup;
    this.cameraNow = camera;

    let availability: number | null | undefined;
    const render = () => {
      const rate =
        availability === undefined || availability === null ? "—" : `${(availability * 100).toFixed(1)}%`;
      info.replaceChildren(
        h(
          "span",
          { class: "camera-status", "data-status": camera.status },
          h("span", { class: "camera-status-dot", style: `background:${STATUS_COLORS[camera.status]}` }),
          t(`cameras.status.${camera.status}`),
        ),
        h("span", { class: "camera-availability" }, t("cameras.availability", { rate })),
      );
      const on = this.projectionNow !== undefined;
      projectButton.textContent = on ? t("cameras.unproject") : t("cameras.project");
      projectButton.title = t("cameras.projectTitle");
      projectButton.setAttribute("aria-pressed", String(on));
      projectButton.disabled = !camera.streamUrl;
    };
    i18next.on("languageChanged", render);
    const stopLang = () => i18next.off("languageChanged", render);
    projectButton.addEventListener("click", () => {
      this.setProjection(
        this.projectionNow ? undefined : new VideoProjection(this.viewer, camera.id, camera, popup.video),
      );
      render();
    });
    render();
    this.changed();
    fetchTodayAvailability().then(
      (rates) => {
        availability = rates.get(camera.id) ?? null;
        if (!popup.closed) render();
      },
      (err: unknown) => console.warn("camera availability:", err),
    );
  }

  /** Turns the projection of the open camera's video on or off (as its button does). */
  project(on: boolean): void {
    const button = this.popup?.element.querySelector<HTMLButtonElement>(".camera-project");
    if (button && on !== (this.projectionNow !== undefined)) button.click();
  }

  close(): void {
    this.popup?.close();
  }

  private setProjection(projection: VideoProjection | undefined): void {
    this.projectionNow?.destroy();
    this.projectionNow = projection;
    // While the video is in the scene, the popup moves aside so it does not hide what it projects.
    this.popup?.element.classList.toggle("projecting", projection !== undefined);
    this.changed();
  }
}

let installed: CameraPopups | undefined;

/** The viewer's popups, for callers that only know a camera (the nearest-cameras list in an alarm). */
export function installCameraPopups(popups: CameraPopups): void {
  installed = popups;
}

export function cameraPopups(): CameraPopups | undefined {
  return installed;
}
