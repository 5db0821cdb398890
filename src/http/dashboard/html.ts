// Escaping by default for the dashboard's server-rendered pages: every value put into an `html`
// template is escaped unless it already is SafeHtml (made by `html` itself or, for markup produced
// by trusted code such as the report's SVG chart, by `trusted`). Names in the store come from the
// cluster and from whoever can create workloads there, so nothing from it may reach a page raw.
import { htmlEscape } from "../../report/formats/html.js";

export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/** What a template accepts: nothing (renders empty), text, numbers, safe markup, or lists of them. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

export const escapeHtml = htmlEscape;

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are markup, the interpolated values are escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

/** Markup from code that escapes its own input (the report's trendSvg): the one way around escaping. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * A link to a dashboard page: each path segment is percent-encoded and empty query values are left
 * out, so links stay short and a name with '/', '?' or '#' cannot change where a link goes.
 */
export function href(segments: readonly string[], query: Record<string, string | number | null | undefined> = {}): string {
  const path = `/${segments.map((s) => encodeURIComponent(s)).join("/")}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
