import type { NearCamera } from "../../../models/cameras.ts";
import "./cameras.css";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { fetchNearCameras } from "./api.ts";
import { STATUS_COLORS } from "./camera-icon.ts";
import { cameraPopups } from "./camera-popup.ts";

/** How far (m) to look for cameras around a point (an alarm's position). */
const SEARCH_RADIUS = 500;
const MAX_CAMERAS = 8;

/**
 * Lists the cameras nearest to a point (an alarm, a clicked feature) in `container`: name, distance, whether
 * the point is inside the camera's view, and a play button opening its video popup. Cameras that see the
 * point come first; among them and among the others, the nearest first.
 *
 * DOM contract: `.nearest-cameras[data-state=loading|ready|empty|error]` holding `li.nearest-camera`
 * items with `data-camera-id` and `data-sees=true|false`, each with a `button.nearest-camera-play`.
 */
export async function renderNearestCameras(container: HTMLElement, lon: number, lat: number): Promise<void> {
  const list = h("ul", { class: "nearest-cameras", "data-state": "loading" });
  container.replaceChildren(h("div", { class: "nearest-cameras-title" }, t("cameras.nearest.title")), list);
  list.append(h("li", { class: "panel-note" }, t("cameras.nearest.loading")));
  let cameras: NearCamera[];
  try {
    cameras = await fetchNearCameras(lon, lat, { radius: SEARCH_RADIUS, limit: MAX_CAMERAS });
  } catch (err) {
    list.dataset.state = "error";
    list.replaceChildren(
      h(
        "li",
        { class: "panel-note error" },
        t("cameras.nearest.error", { message: err instanceof Error ? err.message : String(err) }),
      ),
    );
    return;
  }
  if (cameras.length === 0) {
    list.dataset.state = "empty";
    list.replaceChildren(
      h("li", { class: "panel-note" }, t("cameras.nearest.none", { radius: SEARCH_RADIUS })),
    );
    return;
  }
  // Stable sort: the server orders by distance.
  cameras.sort((a, b) => Number(b.sees) - Number(a.sees));
  list.dataset.state = "ready";
  list.replaceChildren(...cameras.map(item));
}

function item(camera: NearCamera): HTMLElement {
  const play = h(
    "button",
    { type: "button", class: "nearest-camera-play", title: t("cameras.nearest.play") },
    "▶",
  );
  play.setAttribute("aria-label", `${t("cameras.nearest.play")} ${camera.name}`);
  play.disabled = !camera.streamUrl || !cameraPopups();
  play.addEventListener("click", () => cameraPopups()?.open(camera));
  return h(
    "li",
    { class: "nearest-camera", "data-camera-id": camera.id, "data-sees": String(camera.sees) },
    h("span", { class: "camera-status-dot", style: `background:${STATUS_COLORS[camera.status]}` }),
    h("span", { class: "nearest-camera-name", title: camera.id }, camera.name),
    h("span", { class: "nearest-camera-distance" }, `${Math.round(camera.distance)} m`),
    h(
      "span",
      { class: camera.sees ? "nearest-camera-sees yes" : "nearest-camera-sees no" },
      camera.sees ? t("cameras.nearest.sees") : t("cameras.nearest.notSees"),
    ),
    play,
  );
}
