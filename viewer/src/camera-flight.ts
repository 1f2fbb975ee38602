import type { BoundingSphere, HeadingPitchRange, Viewer } from "cesium";

/**
 * Runs a camera flight with the mouse's inertia switched off until it ends. A drag or wheel just before "fly to"
 * leaves momentum in the camera controller that keeps nudging the camera during and after the flight, so the same
 * button would not frame the same view every time.
 */
export function flyWithoutInertia(viewer: Viewer, fly: (done: () => void) => void): void {
  const controller = viewer.scene.screenSpaceCameraController;
  const saved = [controller.inertiaSpin, controller.inertiaTranslate, controller.inertiaZoom] as const;
  controller.inertiaSpin = 0;
  controller.inertiaTranslate = 0;
  controller.inertiaZoom = 0;
  let restored = false;
  fly(() => {
    if (restored) return;
    restored = true;
    [controller.inertiaSpin, controller.inertiaTranslate, controller.inertiaZoom] = saved;
  });
}

/**
 * Flies to frame a bounding sphere from `offset` with the inertia off (see flyWithoutInertia); resolves true on
 * arrival, false when another flight or the user cancels it. The scene renders on demand, so it asks for frames.
 */
export function flyToSphere(
  viewer: Viewer,
  sphere: BoundingSphere,
  offset: HeadingPitchRange,
  duration: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    flyWithoutInertia(viewer, (done) => {
      viewer.camera.flyToBoundingSphere(sphere, {
        offset,
        duration,
        complete: () => {
          done();
          viewer.scene.requestRender();
          resolve(true);
        },
        cancel: () => {
          done();
          resolve(false);
        },
      });
    });
    viewer.scene.requestRender();
  });
}
