import i18next from "i18next";
import { en, zh } from "./locales.ts";

export type Lang = "zh-CN" | "en";
const STORAGE_KEY = "cim.lang";

/** URL `?lang=` wins (shareable links), then the user's last choice, then Chinese. */
function initialLang(): Lang {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl) return fromUrl.toLowerCase().startsWith("en") ? "en" : "zh-CN";
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === "en" || stored === "zh-CN") return stored;
  } catch {
    // Storage can be blocked (privacy mode); the default is fine then.
  }
  return "zh-CN";
}

export async function initI18n(): Promise<void> {
  await i18next.init({
    lng: initialLang(),
    fallbackLng: "zh-CN",
    resources: { "zh-CN": { translation: zh }, en: { translation: en } },
    interpolation: { escapeValue: false },
  });
  document.documentElement.lang = i18next.language;
}

export function currentLang(): Lang {
  return i18next.language === "en" ? "en" : "zh-CN";
}

export async function setLang(lang: Lang): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered, but still switched for this page.
  }
  await i18next.changeLanguage(lang);
  document.documentElement.lang = lang;
}

export const t = (key: string, options?: Record<string, unknown>): string => i18next.t(key, options);

export function onLangChange(listener: () => void): void {
  i18next.on("languageChanged", listener);
}

/** Static markup carries `data-i18n` (text) and `data-i18n-title` (tooltip) keys. */
export function translateDom(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n]")) el.textContent = t(el.dataset.i18n!);
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle!);
    el.setAttribute("aria-label", el.title);
  }
}
