import fc from 'fast-check';

/** One UTF-16 code unit from the surrogate range: a lone half of a pair. */
const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((code) => String.fromCharCode(code));

/** Characters that break naive encoders: HTML, quotes, cookie separators, escapes, controls. */
const nasty = fc.constantFrom(
  '<',
  '>',
  '&',
  '"',
  "'",
  '`',
  ';',
  ',',
  '=',
  ' ',
  '\\',
  '%',
  '+',
  '/',
  '\0',
  '\n',
  '\r',
  '\t',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u00a0',
);

/**
 * Any message text, at least one character: every Unicode code point (fast-check's `binary`
 * unit), astral characters, lone surrogates, HTML and quotes, cookie separators, control characters.
 */
export function anyText({ maxLength = 40 }: { maxLength?: number } = {}): fc.Arbitrary<string> {
  const unit = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 2, arbitrary: nasty },
    { weight: 1, arbitrary: loneSurrogate },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  );
  return fc.string({ unit, minLength: 1, maxLength });
}

/** A message as `ctx.messages.add()` takes it: any safe-integer level, any text, tags, the html flag. */
export const anyMessage = fc.record({
  level: fc.oneof(
    fc.constantFrom(10, 20, 25, 30, 40),
    fc.integer({ min: -1e6, max: 1e6 }),
    fc.maxSafeInteger(),
    fc.constant(Number.MIN_SAFE_INTEGER),
  ),
  message: anyText(),
  extraTags: fc.oneof(fc.constant(''), anyText({ maxLength: 12 })),
  html: fc.boolean(),
});
