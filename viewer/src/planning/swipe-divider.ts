import type { PlanningTools } from "./planning-tools.ts";

/**
 * The draggable vertical bar of the current/planned swipe. Its position (share of the canvas width) drives
 * the scene's splitPosition; tilesets with splitDirection LEFT/RIGHT show only on their side of it.
 */
export class SwipeDivider {
  private readonly bar: HTMLDivElement;

  constructor(private readonly tools: PlanningTools) {
    const bar = document.createElement("div");
    bar.className = "planning-swipe-divider";
    bar.hidden = true;
    bar.append(Object.assign(document.createElement("span"), { className: "planning-swipe-handle" }));
    document.body.append(bar);
    this.bar = bar;
    bar.addEventListener("pointerdown", (e) => {
      bar.setPointerCapture(e.pointerId);
      const move = (ev: PointerEvent) => this.moveTo(ev.clientX);
      const up = () => {
        bar.removeEventListener("pointermove", move);
        bar.removeEventListener("pointerup", up);
      };
      bar.addEventListener("pointermove", move);
      bar.addEventListener("pointerup", up);
      e.preventDefault();
    });
  }

  show(visible: boolean): void {
    this.bar.hidden = !visible;
    if (visible) this.place(this.tools.state().swipe.position);
  }

  private moveTo(clientX: number): void {
    const rect = this.tools.viewer.scene.canvas.getBoundingClientRect();
    const position = (clientX - rect.left) / rect.width;
    this.tools.setSwipePosition(position);
    this.place(this.tools.state().swipe.position);
  }

  private place(position: number): void {
    const rect = this.tools.viewer.scene.canvas.getBoundingClientRect();
    this.bar.style.left = `${rect.left + position * rect.width}px`;
  }
}
