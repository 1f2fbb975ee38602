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
  onDispatched: (alarm: Alarm) => void = () => {};

  constructor(private readonly el: HTMLElement) {}

  get current(): Alarm | undefined {
    return this.alarm;
  }

  show(alarm: Alarm | undefined, department?: string | null): void {
    this.alarm = alarm;
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
    send.addEventListener(
      "click",
      () => void this.send(alarm, assignee.value.trim(), note.value.trim(), result),
    );
    this.el.replaceChildren(
      title,
      h(
        "div",
        { class: "cockpit-dispatch-alarm", style: `--level:${STATE_COLORS[alarm.level]}` },
        h("span", { class: "cockpit-ticker-level" }, levelLabel(alarm.level)),
        h("strong", {}, alarm.deviceName ?? alarm.deviceId),
        h("span", {}, `${deviceTypeLabel(alarm.deviceType)} · ${statusLabel(alarm.status)}`),
      ),
      h("label", {}, h("span", {}, t("cockpit.dispatch.assignee")), assignee),
      h("label", {}, h("span", {}, t("cockpit.dispatch.noteLabel")), note),
      send,
      result,
    );
  }

  private async send(alarm: Alarm, assignee: string, note: string, result: HTMLElement): Promise<void> {
    if (!assignee) {
      result.textContent = t("cockpit.dispatch.needAssignee");
      return;
    }
    const operator = await requireOperator();
    if (!operator) return;
    this.el.dataset.state = "sending";
    result.textContent = t("cockpit.dispatch.sending");
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
      this.el.dataset.state = "done";
      result.textContent = t("cockpit.dispatch.done", { assignee });
      this.alarm = current;
      this.onDispatched(current);
    } catch (err) {
      if (err instanceof UnauthorizedError) forgetOperator();
      this.el.dataset.state = "error";
      result.textContent = t("cockpit.dispatch.error", {
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
