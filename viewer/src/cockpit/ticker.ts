import type { Alarm } from "../../../models/alarms.ts";
import { h } from "../dom.ts";
import { currentLang } from "../i18n.ts";
import { CITY_TIME_ZONE, deviceTypeLabel, formatValue, levelLabel, statusLabel } from "../iot/labels.ts";
import type { LiveAlarmMessage } from "../iot/live-client.ts";
import { STATE_COLORS } from "../iot/sensor-state.ts";

const MAX_ITEMS = 40;
const STEP_MS = 6000;

/**
 * 实时告警 ticker along the bottom: the latest alarms, newest first, updated live. When they do not fit,
 * it steps one item along every few seconds (never while the pointer is over it, so a click lands on what
 * the user aimed at). Clicking an item calls `onSelect`.
 *
 * DOM contract: `li.cockpit-ticker-item[data-alarm-id][data-level][data-status]`.
 */
export class AlarmTicker {
  private alarms: Alarm[] = [];
  private hovered = false;
  private offset = 0;
  private readonly elements = new Map<number, HTMLElement>();
  onSelect: (alarm: Alarm) => void = () => {};

  constructor(private readonly list: HTMLElement) {
    list.addEventListener("pointerenter", () => {
      this.hovered = true;
    });
    list.addEventListener("pointerleave", () => {
      this.hovered = false;
    });
    list.addEventListener("click", (event) => {
      const item = (event.target as HTMLElement).closest<HTMLElement>("[data-alarm-id]");
      const alarm = item && this.alarms.find((a) => String(a.id) === item.dataset.alarmId);
      if (alarm) this.onSelect(alarm);
    });
    setInterval(() => this.step(), STEP_MS);
  }

  get items(): readonly Alarm[] {
    return this.alarms;
  }

  /** Filters what the ticker shows (the public role sees only shared devices' alarms). */
  visible: (alarm: Alarm) => boolean = () => true;

  setAlarms(alarms: Alarm[]): void {
    this.alarms = alarms.filter((a) => this.visible(a)).slice(0, MAX_ITEMS);
    this.offset = 0;
    this.render();
  }

  /** A live alarm event: a new alarm goes first, a changed one is updated where it is. */
  apply(message: LiveAlarmMessage): void {
    const alarm = message.alarm;
    if (!this.visible(alarm)) return;
    const i = this.alarms.findIndex((a) => a.id === alarm.id);
    if (i >= 0) this.alarms[i] = alarm;
    else {
      this.alarms.unshift(alarm);
      this.alarms.length = Math.min(this.alarms.length, MAX_ITEMS);
      this.offset = 0;
    }
    this.render();
  }

  /**
   * Items are kept per alarm and updated in place: a list rebuilt on every event (several a second when a main
   * bursts) would pull the item from under the user's pointer.
   */
  render(): void {
    const shown = [...this.alarms.slice(this.offset), ...this.alarms.slice(0, this.offset)];
    const keep = new Set(shown.map((a) => a.id));
    for (const [id, el] of this.elements) {
      if (!keep.has(id)) {
        el.remove();
        this.elements.delete(id);
      }
    }
    let previous: Element | null = null;
    for (const alarm of shown) {
      let el = this.elements.get(alarm.id);
      if (!el) {
        el = h("li", { class: "cockpit-ticker-item", role: "button", tabindex: 0 });
        this.elements.set(alarm.id, el);
      }
      this.fill(el, alarm);
      const expected: Element | null = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== el) {
        if (previous) previous.after(el);
        else this.list.prepend(el);
      }
      previous = el;
    }
    this.list.dataset.count = String(this.alarms.length);
  }

  private step(): void {
    if (this.hovered || this.list.scrollWidth <= this.list.clientWidth + 1 || this.alarms.length < 2) return;
    this.offset = (this.offset + 1) % this.alarms.length;
    this.render();
  }

  private fill(el: HTMLElement, a: Alarm): void {
    const time = new Date(a.raisedAt).toLocaleTimeString("zh-CN", {
      hour12: false,
      timeZone: CITY_TIME_ZONE,
    });
    const what = a.quantity ? `${formatValue(a.value)}${a.unit ? ` ${a.unit}` : ""}` : "";
    const signature = [a.level, a.status, a.value, a.deviceName, time, currentLang()].join("|");
    // Unchanged items are left alone: replacing the spans under a pressed mouse button would lose the click.
    if (el.dataset.signature === signature) return;
    el.dataset.signature = signature;
    el.dataset.alarmId = String(a.id);
    el.dataset.level = a.level;
    el.dataset.status = a.status;
    el.style.setProperty("--level", STATE_COLORS[a.level]);
    el.replaceChildren(
      h("span", { class: "cockpit-ticker-level" }, levelLabel(a.level)),
      h("span", { class: "cockpit-ticker-time" }, time),
      h("span", { class: "cockpit-ticker-name" }, a.deviceName ?? a.deviceId),
      h("span", { class: "cockpit-ticker-type" }, deviceTypeLabel(a.deviceType)),
      ...(what ? [h("span", { class: "cockpit-ticker-value" }, what)] : []),
      h("span", { class: "cockpit-ticker-status" }, statusLabel(a.status)),
    );
  }
}
