import type { Cartesian2, Scene } from "cesium";

/**
 * `scene.pick`, tried once more after a rendered frame if CesiumJS fails inside it.
 *
 * Why: a pick re-runs the primitives in a pick pass, and CesiumJS creates some of their GPU resources only in a
 * render pass; a pick between a change and the next frame can then bind one that does not exist yet (seen in CI right
 * after a section plane cut a BIM tileset: "Cannot read properties of undefined (reading '_target')"). After one
 * frame it exists. A second failure is a real error and is thrown.
 */
export function pickObject(scene: Scene, position: Cartesian2): unknown {
  try {
    return scene.pick(position);
  } catch {
    scene.requestRender();
    scene.render();
    return scene.pick(position);
  }
}
