import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseTextArray } from '../../src/store/textArray.js';
import { backends, useDatabase } from '../support/databases.js';

describe('parseTextArray', () => {
  it.each([
    ['{}', []],
    ['{a}', ['a']],
    ['{a,b}', ['a', 'b']],
    ['{"a,b",c}', ['a,b', 'c']],
    ['{"quote\\"d","back\\\\slash"}', ['quote"d', 'back\\slash']],
    ['{NULL,"NULL",null}', [null, 'NULL', null]],
    ['{"",x}', ['', 'x']],
    ['{"{braces}"}', ['{braces}']],
  ])('parses %s', (literal, expected) => {
    expect(parseTextArray(literal)).toEqual(expected);
  });

  it.each(['', 'a,b', '{a', '{{a},{b}}', '{"a"b}'])('refuses %j', (literal) => {
    expect(() => parseTextArray(literal)).toThrow(SyntaxError);
  });
});

describe.each(backends)('text[] read back through the store on %s', (backend) => {
  const database = useDatabase(backend);

  it('returns every array of strings exactly as it was stored', async () => {
    // PostgreSQL's text cannot hold NUL; everything else goes.
    const element = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replace(/\0/g, ''));
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 6 }), async (values) => {
        const [row] = await database().store.query<{ value: string[] }>(sql`
          select array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))
            as value`);
        expect(row?.value).toEqual(values);
      }),
      { numRuns: 150 },
    );
  });
});
