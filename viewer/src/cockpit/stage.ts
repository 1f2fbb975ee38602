/** The design size of the cockpit: the big-screen convention is to lay everything out for 1920x1080. */
export const STAGE_WIDTH = 1920;
export const STAGE_HEIGHT = 1080;

/**
 * Scales the fixed 1920x1080 stage to fit the window, centred with bars on the longer side (letterbox), so
 * the layout reads the same on a video wall, a projector or a laptop. Returns the current scale factor.
 */
export function fitStage(stage: HTMLElement): () => number {
  let scale = 1;
  const resize = () => {
    scale = Math.min(window.innerWidth / STAGE_WIDTH, window.innerHeight / STAGE_HEIGHT);
    const left = (window.innerWidth - STAGE_WIDTH * scale) / 2;
    const top = (window.innerHeight - STAGE_HEIGHT * scale) / 2;
    stage.style.transform = `translate(${left}px, ${top}px) scale(${scale})`;
    stage.dataset.scale = scale.toFixed(4);
  };
  resize();
  window.addEventListener("resize", resize);
  return () => scale;
}
