import type { Alarm } from "../../../models/alarms.ts";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { postTransition, UnauthorizedError } from "../iot/api.ts";
import { deviceTypeLabel, levelLabel, statusLabel } from "../iot/labels.ts";
import { forgetOperator, requireOperator } from "../iot/operator.ts";
import { STATE_COLORS } from "../iot/sensor-state.ts";

/**
 * 指挥调度 (wartime): the alarm in focus and a form that dispatches it to an assignee, posting the lifecycle's
 * "dispatch" transition (after "acknowledge" when the alarm was only raised) with the operator's admin token.
 *
 * DOM contract: `.cockpit-dispatch[data-alarm-id][data-state=idle|sending|done|error]`, `input.dispatch-assignee`,
 * `button.dispatch-send`, `.dispatch-result`.
 */
export class DispatchPanel {
  private alarm: Alarm | undefined;
  /** The shown alarm's status line, kept current while the form stays as the user filled it. */
  private statusLine: HTMLElement | undefined;
  onDispatched: (alarm: Alarm) => void = () => {};

  constructor(private readonly el: HTMLElement) {}

  get current(): Alarm | undefined {
    return this.alarm;
  }

  show(alarm: Alarm | undefined, department?: string | null): void {
    this.alarm = alarm;
    this.statusLine = undefined;
    this.el.dataset.state = "idle";
    this.el.dataset.alarmId = alarm ? String(alarm.id) : "";
    const title = h("h2", {}, t("cockpit.dispatch.title"));
    if (!alarm) {
      this.el.replaceChildren(title, h("p", { class: "cockpit-note" }, t("cockpit.dispatch.none")));
      return;
    }
    const assignee = h("input", {
      type: "text",
      class: "dispatch-assignee",
      maxlength: 200,
      value: alarm.assignee ?? department ?? "",
      placeholder: t("cockpit.dispatch.assigneeHint"),
    });
    const note = h("input", {
      type: "text",
      class: "dispatch-note",
      maxlength: 500,
      placeholder: t("cockpit.dispatch.note"),
    });
    const send = h(
      "button",
      { type: "button", class: "cockpit-button dispatch-send" },
      t("cockpit.dispatch.send"),
    );
    const result = h("p", { class: "dispatch-result", role: "status" });
    this.statusLine = h("span", { class: "dispatch-alarm-status" });
    this.showStatus(alarm);
    send.addEventListener(
      "click",
      () => void this.send(assignee.value.trim(), note.value.trim(), result, send),
    );
    this.el.replaceChildren(
      title,
      h(
        "div",
        { class: "cockpit-dispatch-alarm", style: `--level:${STATE_COLORS[alarm.level]}` },
        h("span", { class: "cockpit-ticker-level" }, levelLabel(alarm.level)),
        h("strong", {}, alarm.deviceName ?? alarm.deviceId),
        this.statusLine,
      ),
      h("label", {}, h("span", {}, t("cockpit.dispatch.assignee")), assignee),
      h("label", {}, h("span", {}, t("cockpit.dispatch.noteLabel")), note),
      send,
      result,
    );
  }

  /**
   * The shown alarm changed elsewhere (a live event: acknowledged, dispatched or closed by someone else): its
   * status is updated without rebuilding the form the user may be filling in.
   */
  update(alarm: Alarm): void {
    if (this.alarm?.id !== alarm.id) return;
    this.alarm = alarm;
    this.showStatus(alarm);
  }

  private showStatus(alarm: Alarm): void {
    if (this.statusLine)
      this.statusLine.textContent = `${deviceTypeLabel(alarm.deviceType)} · ${statusLabel(alarm.status)}`;
  }

  private async send(
    assignee: string,
    note: string,
    result: HTMLElement,
    button: HTMLButtonElement,
  ): Promise<void> {
    // The alarm as it stands now, not as it was shown: after a first dispatch it is no longer "raised", and
    // dispatching again (re-assigning) must not try to acknowledge it a second time.
    const alarm = this.alarm;
    if (!alarm) return;
    if (!assignee) {
      result.textContent = t("cockpit.dispatch.needAssignee");
      return;
    }
    const operator = await requireOperator();
    if (!operator || this.alarm?.id !== alarm.id) return;
    this.el.dataset.state = "sending";
    result.textContent = t("cockpit.dispatch.sending");
    // One work order per click: a double click would send the transitions twice.
    button.disabled = true;
    try {
      let current = alarm;
      if (current.status === "raised")
        current = await postTransition(
          current.id,
          { action: "acknowledge", by: operator.name },
          operator.token,
        );
      current = await postTransition(
        current.id,
        { action: "dispatch", by: operator.name, assignee, note: note || undefined },
        operator.token,
      );
      this.onDispatched(current);
      // Another alarm may have taken the panel meanwhile (wartime focus): then this form is gone.
      if (this.alarm?.id !== alarm.id) return;
      this.el.dataset.state = "done";
      result.textContent = t("cockpit.dispatch.done", { assignee });
      this.update(current);
    } catch (err) {
      if (err instanceof UnauthorizedError) forgetOperator();
      if (this.alarm?.id !== alarm.id) return;
      this.el.dataset.state = "error";
      result.textContent = t("cockpit.dispatch.error", {
        message: err instanceof Error ? err.message : String(err),
      });
    } finally {
      button.disabled = false;
    }
  }
}
