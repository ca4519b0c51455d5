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
 *
 * @param text - the text; anything else (a number, `null`, a `Message`) is converted with `String()`
 *   first.
 */
export function escapeHtml(text: unknown): string {
  // Called from templates with whatever is at hand: turn it into a string once, so a number
  // works and an object cannot pass the test with one string and be printed as another.
  const s = typeof text === 'string' ? text : String(text);
  return HAS_UNSAFE.test(s) ? s.replace(UNSAFE, (ch) => ESCAPES[ch]!) : s;
}
