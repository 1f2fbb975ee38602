import { h } from "../dom.ts";
import { t } from "../i18n.ts";

/** Who acts on alarms: the server's admin token (writes need it) and the name written to the alarm history. */
export interface Operator {
  token: string;
  name: string;
}

/**
 * Session storage, not local storage: the token is forgotten when the tab closes, so a shared duty-room
 * machine does not keep a write credential. Tests set this key before acting.
 */
export const OPERATOR_STORAGE_KEY = "cim.operator";

export function storedOperator(): Operator | undefined {
  try {
    const raw = sessionStorage.getItem(OPERATOR_STORAGE_KEY);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as Partial<Operator>;
    if (typeof value.token === "string" && value.token && typeof value.name === "string" && value.name)
      return { token: value.token, name: value.name };
  } catch {
    // Blocked storage or a damaged entry: ask again.
  }
  return undefined;
}

export function forgetOperator(): void {
  try {
    sessionStorage.removeItem(OPERATOR_STORAGE_KEY);
  } catch {
    // Nothing stored then.
  }
}

function remember(operator: Operator): void {
  try {
    sessionStorage.setItem(OPERATOR_STORAGE_KEY, JSON.stringify(operator));
  } catch {
    // Used for this action only.
  }
}

let pending: Promise<Operator | undefined> | undefined;

/** The stored operator, or asks for the token (pasted once per session) and a name. */
export function requireOperator(message?: string): Promise<Operator | undefined> {
  const stored = storedOperator();
  if (stored) return Promise.resolve(stored);
  pending ??= askOperator(message).finally(() => {
    pending = undefined;
  });
  return pending;
}

function askOperator(message?: string): Promise<Operator | undefined> {
  return new Promise((resolve) => {
    const token = h("input", {
      type: "password",
      class: "operator-token",
      autocomplete: "off",
      required: true,
      "aria-label": t("iot.operator.token"),
    });
    const name = h("input", {
      type: "text",
      class: "operator-name",
      required: true,
      maxlength: 200,
      value: t("iot.operator.defaultName"),
      "aria-label": t("iot.operator.name"),
    });
    const cancel = h("button", { type: "button", class: "operator-cancel" }, t("iot.operator.cancel"));
    const form = h(
      "form",
      { class: "panel operator-dialog" },
      h("h2", { class: "panel-title" }, t("iot.operator.title")),
      h("p", { class: "operator-hint" }, message ?? t("iot.operator.hint")),
      h("label", {}, h("span", {}, t("iot.operator.token")), token),
      h("label", {}, h("span", {}, t("iot.operator.name")), name),
      h(
        "div",
        { class: "operator-buttons" },
        cancel,
        h("button", { type: "submit", class: "operator-ok" }, t("iot.operator.ok")),
      ),
    );
    const done = (operator: Operator | undefined) => {
      form.remove();
      if (operator) remember(operator);
      resolve(operator);
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = { token: token.value.trim(), name: name.value.trim() };
      if (value.token && value.name) done(value);
    });
    cancel.addEventListener("click", () => done(undefined));
    document.body.append(form);
    token.focus();
  });
}
