// JSON texts for the fuzz suite: values of random depth (past the 64-level
// limit too) and width, built as text.

import fc from 'fast-check';

const leafArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('a', 'b', '1', 1, -1, 0, 1.5, ''),
  )
  .map((value) => JSON.stringify(value));

/**
 * A value `depth` levels deep with `width` leaf siblings at each level,
 * built as text (a recursive build would test the test's stack, not the
 * server's). Arrays and objects alternate as `kinds` says.
 */
const nestedArb: fc.Arbitrary<string> = fc
  .record({
    depth: fc.oneof(
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: 60, max: 70 }),
      fc.integer({ min: 0, max: 3_000 }),
    ),
    width: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 200 })),
    kinds: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
    leaf: leafArb,
  })
  .map(({ depth, width, kinds, leaf }) => {
    const opens: string[] = [];
    const closes: string[] = [];
    for (let level = 0; level < depth; level += 1) {
      const array = kinds[level % kinds.length]!;
      // Siblings only on the first levels, so that the text stays within a few frames' size.
      const siblings = level < 4 ? width : 0;
      if (array) opens.push(`[${`${leaf},`.repeat(siblings)}`);
      else opens.push(`{${Array.from({ length: siblings }, (_, i) => `"s${i}":${leaf},`).join('')}"in":`);
      closes.push(array ? ']' : '}');
    }
    return `${opens.join('')}${leaf}${closes.reverse().join('')}`;
  });

/** A JSON text: deeply nested, wide, ordinary or a leaf. */
export const valueArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: nestedArb },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: leafArb },
);
