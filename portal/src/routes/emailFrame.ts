const STYLE_ELEMENTS = /<style\b[^>]*>[\s\S]*?<\/style\s*>/gi;
const STYLE_ATTRIBUTES = /\sstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;

/**
 * The srcdoc for an email's HTML. A srcdoc frame inherits the page's Content-Security-Policy (style-src 'self'), so
 * the email's inline styles would be refused anyway, each refusal an error in the console; they are dropped here and
 * the frame gets the portal's own email stylesheet instead. They go before parsing: DOMParser's document shares the
 * page's policy and would report them too. Scripts would not run either way (sandbox=""), but go as well.
 */
export function emailSrcDoc(html: string): string {
  const unstyled = html.replace(STYLE_ELEMENTS, "").replace(STYLE_ATTRIBUTES, "");
  const doc = new DOMParser().parseFromString(unstyled, "text/html");
  doc.querySelectorAll("script, style, link, meta[http-equiv], base").forEach((el) => el.remove());
  doc.querySelectorAll("[style]").forEach((el) => el.removeAttribute("style"));
  const sheet = doc.createElement("link");
  sheet.rel = "stylesheet";
  sheet.href = new URL("/email-frame.css", window.location.origin).href;
  doc.head.prepend(sheet);
  return `<!doctype html>${doc.documentElement.outerHTML}`;
}
