import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { formatTime } from "../iot/labels.ts";
import { REPLAY_SPEEDS, type TimeTravel } from "./time-travel.ts";

/** 5-second steps over 24 h, so a recent event is not skipped by the scrubber. */
const SCRUB_STEPS = 17_280;

/**
 * The replay control: a "回放 24 小时" button that becomes play/pause, speed, a scrubber over the window
 * with the replayed time, and a way back to live data.
 */
export class TimelineBar {
  readonly element: HTMLElement;
  private readonly enter = h("button", { type: "button", class: "timeline-enter" });
  private readonly playButton = h("button", { type: "button", class: "timeline-play" });
  private readonly speed = h("select", { class: "timeline-speed" });
  private readonly scrub = h("input", {
    type: "range",
    min: 0,
    max: SCRUB_STEPS,
    value: 0,
    class: "timeline-scrub",
  });
  private readonly clock = h("span", { class: "timeline-clock" });
  private readonly exit = h("button", { type: "button", class: "timeline-exit" });
  private readonly status = h("span", { class: "timeline-status" });

  /** `timeZone`: the clock's time zone (the cockpit tells the city's time); default the browser's. */
  constructor(
    private readonly travel: TimeTravel,
    private readonly timeZone?: string,
  ) {
    for (const s of REPLAY_SPEEDS) this.speed.append(h("option", { value: s }, `${s}×`));
    this.speed.value = String(travel.speed);
    this.element = h(
      "div",
      { class: "timeline-bar panel", "data-active": "false" },
      this.enter,
      this.playButton,
      this.speed,
      this.scrub,
      this.clock,
      this.exit,
      this.status,
    );
    this.enter.addEventListener("click", () => void this.start());
    this.playButton.addEventListener("click", () => {
      if (travel.playing) travel.pause();
      else travel.play();
      this.render();
    });
    this.speed.addEventListener("change", () => {
      travel.speed = Number(this.speed.value);
    });
    this.scrub.addEventListener("input", () => {
      const w = travel.window;
      if (!w) return;
      travel.seek(w.from + ((w.to - w.from) * Number(this.scrub.value)) / SCRUB_STEPS);
    });
    this.exit.addEventListener("click", () => travel.stop());
    travel.onFrame((frame) => {
      const w = travel.window;
      if (w) this.scrub.value = String(Math.round(((frame.t - w.from) / (w.to - w.from)) * SCRUB_STEPS));
      this.clock.textContent = formatTime(frame.t, this.timeZone);
      this.element.dataset.time = String(Math.round(frame.t));
      if (!travel.playing) this.render();
    });
    travel.onModeChange(() => {
      const w = travel.window;
      this.element.dataset.from = w ? String(w.from) : "";
      this.element.dataset.to = w ? String(w.to) : "";
      this.render();
    });
    this.render();
  }

  /** Labels in the current language; call on language change. */
  render(): void {
    const active = this.travel.active;
    this.element.dataset.active = String(active);
    this.element.dataset.playing = String(this.travel.playing);
    this.enter.textContent = t("timeline.enter");
    this.enter.hidden = active;
    for (const el of [this.playButton, this.speed, this.scrub, this.clock, this.exit]) el.hidden = !active;
    this.playButton.textContent = this.travel.playing ? t("timeline.pause") : t("timeline.play");
    this.exit.textContent = t("timeline.live");
    this.speed.title = t("timeline.speed");
  }

  private async start(): Promise<void> {
    this.status.textContent = t("timeline.loading");
    this.enter.disabled = true;
    try {
      await this.travel.start();
      this.status.textContent = "";
    } catch (err) {
      this.status.textContent = t("timeline.failed", {
        message: err instanceof Error ? err.message : String(err),
      });
    } finally {
      this.enter.disabled = false;
      this.render();
    }
  }
}
