import type { Alarm } from "../../../models/alarms.ts";
import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import type { AlarmStore } from "./alarm-store.ts";
import { postTransition, UnauthorizedError } from "./api.ts";
import { deviceTypeLabel, formatTime, formatValue, levelLabel, statusLabel } from "./labels.ts";
import type { LiveStatus } from "./live-client.ts";
import { forgetOperator, requireOperator } from "./operator.ts";

export interface AlarmPanelOptions {
  /** Flies the camera to the alarm's device (and the asset it is on). */
  flyTo(alarm: Alarm): Promise<boolean>;
  /**
   * Fills the popup's "nearest cameras" container. The camera tools provide it
   * (`renderNearestCameras(container, lon, lat)` in viewer/src/cameras/nearest-cameras.ts).
   */
  renderNearestCameras?(container: HTMLElement, lon: number, lat: number): void;
}

/** Snapshot for the test hook. */
export interface AlarmPanelState {
  loaded: boolean;
  count: number;
  items: { id: number; deviceId: string; level: string; status: string; active: boolean }[];
  popupAlarmId: number | null;
  live: LiveStatus;
}

/**
 * The live alarm list: open alarms, most severe first, each with its level colour, device, time and
 * lifecycle stage, an acknowledge button (the operator's token is asked once per session) and a
 * fly-to button. Clicking an alarm opens its detail popup.
 */
export class AlarmPanel {
  private popup: HTMLElement | undefined;
  private popupAlarmId: number | null = null;
  private liveStatus: LiveStatus = "connecting";
  private readonly busy = new Set<number>();
  private readonly errors = new Map<number, string>();

  constructor(
    private readonly root: HTMLElement,
    private readonly store: AlarmStore,
    private readonly options: AlarmPanelOptions,
  ) {
    store.onChange(() => this.render());
    onLangChange(() => this.render());
    this.render();
  }

  setLiveStatus(status: LiveStatus): void {
    this.liveStatus = status;
    this.render();
  }

  state(): AlarmPanelState {
    return {
      loaded: this.store.loaded,
      count: this.store.list().length,
      items: this.store.list().map((a) => ({
        id: a.id,
        deviceId: a.deviceId,
        level: a.level,
        status: a.status,
        active: a.active,
      })),
      popupAlarmId: this.popupAlarmId,
      live: this.liveStatus,
    };
  }

  /** Runs a lifecycle step as the session's operator; a rejected token is forgotten and asked again once. */
  async transition(alarm: Alarm, action: "acknowledge", note?: string): Promise<boolean> {
    this.busy.add(alarm.id);
    this.errors.delete(alarm.id);
    this.render();
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const operator = await requireOperator(attempt > 0 ? t("iot.operator.rejected") : undefined);
        if (!operator) return false;
        try {
          const updated = await postTransition(
            alarm.id,
            { action, by: operator.name, ...(note ? { note } : {}) },
            operator.token,
          );
          this.store.upsert(updated);
          return true;
        } catch (err) {
          if (!(err instanceof UnauthorizedError)) throw err;
          forgetOperator();
        }
      }
      return false;
    } catch (err) {
      this.errors.set(alarm.id, err instanceof Error ? err.message : String(err));
      return false;
    } finally {
      this.busy.delete(alarm.id);
      this.render();
    }
  }

  openPopup(alarm: Alarm): void {
    this.popupAlarmId = alarm.id;
    this.renderPopup();
  }

  closePopup(): void {
    this.popup?.remove();
    this.popup = undefined;
    this.popupAlarmId = null;
  }

  private render(): void {
    const alarms = this.store.list();
    const header = h(
      "div",
      { class: "panel-header" },
      h("h2", { class: "panel-title" }, t("iot.alarms.title", { count: alarms.length })),
      h(
        "span",
        { class: "alarm-live", "data-status": this.liveStatus, title: t(`iot.live.${this.liveStatus}`) },
        t(`iot.live.${this.liveStatus}`),
      ),
    );
    let body: HTMLElement;
    if (!this.store.loaded) body = h("p", { class: "panel-note" }, t("iot.alarms.loading"));
    else if (this.store.loadError && alarms.length === 0)
      body = h("p", { class: "panel-note error" }, t("iot.alarms.error", { message: this.store.loadError }));
    else if (alarms.length === 0) body = h("p", { class: "panel-note alarm-none" }, t("iot.alarms.none"));
    else body = h("ul", { class: "alarm-list" }, ...alarms.map((a) => this.item(a)));
    this.root.replaceChildren(header, body);
    if (this.popupAlarmId !== null) this.renderPopup();
  }

  private item(alarm: Alarm): HTMLElement {
    const fly = h(
      "button",
      { type: "button", class: "alarm-fly", title: t("iot.alarms.flyToTitle") },
      t("iot.alarms.flyTo"),
    );
    fly.addEventListener("click", (event) => {
      event.stopPropagation();
      void this.options.flyTo(alarm);
    });
    const ack = alarm.actions.includes("acknowledge")
      ? h(
          "button",
          { type: "button", class: "alarm-ack", disabled: this.busy.has(alarm.id) },
          t("iot.alarms.acknowledge"),
        )
      : undefined;
    ack?.addEventListener("click", (event) => {
      event.stopPropagation();
      void this.transition(alarm, "acknowledge");
    });
    const error = this.errors.get(alarm.id);
    const li = h(
      "li",
      {
        class: `alarm-item level-${alarm.level}${alarm.id === this.popupAlarmId ? " open" : ""}`,
        "data-alarm-id": alarm.id,
        "data-device-id": alarm.deviceId,
        "data-level": alarm.level,
        "data-status": alarm.status,
        "data-active": String(alarm.active),
        tabindex: 0,
      },
      h("span", { class: "alarm-level", title: levelLabel(alarm.level) }, levelLabel(alarm.level)),
      h(
        "div",
        { class: "alarm-main" },
        h("div", { class: "alarm-device" }, alarm.deviceName ?? alarm.deviceId),
        h("div", { class: "alarm-what" }, this.describe(alarm)),
        h(
          "div",
          { class: "alarm-meta" },
          h("time", { class: "alarm-time", datetime: alarm.raisedAt }, formatTime(alarm.raisedAt)),
          h("span", { class: "alarm-stage" }, statusLabel(alarm.status)),
          alarm.active ? undefined : h("span", { class: "alarm-cleared" }, t("iot.alarms.cleared")),
        ),
        error ? h("div", { class: "alarm-error" }, error) : undefined,
      ),
      h("div", { class: "alarm-buttons" }, ack, fly),
    );
    const open = () => this.openPopup(alarm);
    li.addEventListener("click", open);
    li.addEventListener("keydown", (event) => {
      if (event.key === "Enter") open();
    });
    return li;
  }

  /** "pressure 0.03 ≤ 0.05 MPa" (value against the limit), or "offline 1200 s". */
  private describe(alarm: Alarm): string {
    const unit = alarm.unit ?? "";
    if (alarm.kind === "offline") return t("iot.alarms.offline", { seconds: Math.round(alarm.value) });
    const op = alarm.kind === "lower" ? "≤" : "≥";
    const what =
      alarm.kind === "rate" ? t("iot.alarms.rateOf", { quantity: alarm.quantity }) : alarm.quantity;
    return `${what} ${formatValue(alarm.value)} ${op} ${formatValue(alarm.limit)} ${unit}`.trim();
  }

  private renderPopup(): void {
    const alarm = this.popupAlarmId === null ? undefined : this.store.get(this.popupAlarmId);
    if (!alarm) {
      // Closed meanwhile (it left the open list): keep nothing stale on screen.
      this.closePopup();
      return;
    }
    const keepNote = this.popup?.querySelector<HTMLTextAreaElement>(".alarm-note")?.value ?? "";
    const keepCameras = this.popup?.querySelector<HTMLElement>(".alarm-nearest-cameras");
    const close = h(
      "button",
      { type: "button", class: "panel-close", title: t("iot.alarmPopup.close") },
      "×",
    );
    close.addEventListener("click", () => {
      this.closePopup();
      this.render();
    });
    const row = (key: string, value: string) =>
      h(
        "div",
        { class: "prop-row" },
        h("dt", { class: "prop-key" }, t(key)),
        h("dd", { class: "prop-value" }, value),
      );
    const note = h("textarea", {
      class: "alarm-note",
      rows: 2,
      maxlength: 2000,
      placeholder: t("iot.alarmPopup.notePlaceholder"),
    });
    note.value = keepNote;
    const ack = alarm.actions.includes("acknowledge")
      ? h(
          "button",
          { type: "button", class: "alarm-popup-ack", disabled: this.busy.has(alarm.id) },
          t("iot.alarms.acknowledge"),
        )
      : undefined;
    ack?.addEventListener(
      "click",
      () => void this.transition(alarm, "acknowledge", note.value.trim() || undefined),
    );
    const fly = h("button", { type: "button", class: "alarm-popup-fly" }, t("iot.alarms.flyTo"));
    fly.addEventListener("click", () => void this.options.flyTo(alarm));

    // Same element across re-renders, so whatever the camera tools put in it stays.
    const cameras =
      keepCameras && this.popup?.dataset.alarmId === String(alarm.id)
        ? keepCameras
        : h("div", { class: "alarm-nearest-cameras", "data-lon": alarm.lon, "data-lat": alarm.lat });
    const fresh = cameras !== keepCameras;

    const popup = h(
      "section",
      {
        class: `panel alarm-popup level-${alarm.level}`,
        "data-alarm-id": alarm.id,
        "data-status": alarm.status,
        role: "dialog",
      },
      h(
        "div",
        { class: "panel-header" },
        h(
          "h2",
          { class: "panel-title alarm-popup-title" },
          `${levelLabel(alarm.level)} · ${alarm.deviceName ?? alarm.deviceId}`,
        ),
        close,
      ),
      h(
        "dl",
        { class: "prop-list alarm-details" },
        row("iot.alarmPopup.device", `${alarm.deviceId} (${deviceTypeLabel(alarm.deviceType)})`),
        row("iot.alarmPopup.condition", this.describe(alarm)),
        row("iot.alarmPopup.peak", levelLabel(alarm.peakLevel)),
        row("iot.alarmPopup.stage", statusLabel(alarm.status)),
        row("iot.alarmPopup.active", alarm.active ? t("iot.alarmPopup.yes") : t("iot.alarmPopup.no")),
        row("iot.alarmPopup.raisedAt", formatTime(alarm.raisedAt)),
        row("iot.alarmPopup.lastAt", formatTime(alarm.lastAt)),
        row("iot.alarmPopup.count", String(alarm.count)),
        alarm.assignee ? row("iot.alarmPopup.assignee", alarm.assignee) : undefined,
      ),
      cameras,
      ack ? note : undefined,
      h("div", { class: "alarm-popup-buttons" }, ack, fly),
    );
    if (this.popup) this.popup.replaceWith(popup);
    else document.body.append(popup);
    this.popup = popup;
    if (fresh) {
      if (this.options.renderNearestCameras) this.options.renderNearestCameras(cameras, alarm.lon, alarm.lat);
      else cameras.append(h("p", { class: "panel-note" }, t("iot.alarmPopup.noCameras")));
    }
  }
}
