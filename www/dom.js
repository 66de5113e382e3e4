// Small DOM and number-formatting helpers shared by the page's modules.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

export const grouped = (n) => n.toLocaleString('en-US');

export const short = (n) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`;

export const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Shows `message` in an element (and unhides it), or hides it when message is empty. */
export function say(element, message) {
  element.textContent = message ?? '';
  element.hidden = !message;
}
