const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
};
const UNSAFE = /[&<>"']/g;
const HAS_UNSAFE = /[&<>"']/;

/**
 * HTML-escape text the way Django's `conditional_escape` does (`& < > " '`), so a message is safe
 * to put into `innerHTML` or an attribute. The test first: most messages need no copy at all.
 */
export function escapeHtml(text: string): string {
  return HAS_UNSAFE.test(text) ? text.replace(UNSAFE, (ch) => ESCAPES[ch]!) : text;
}
