import { describe, expect, it } from 'vitest';

import { parsePrometheusText } from './promText.js';

const HEAD = '# HELP m A metric.\n# TYPE m gauge\n';

describe('parsePrometheusText', () => {
  it('reads labels, escapes and special values, and skips timestamps', () => {
    const text = `${HEAD}m{a="x\\"y",b="1\\\\2\\n3",} 1.5e3 1700000000000\nm NaN\nm{a=""} -Inf\n`;

    expect(parsePrometheusText(text).get('m')?.samples).toEqual([
      { name: 'm', labels: { a: 'x"y', b: '1\\2\n3' }, value: 1500 },
      { name: 'm', labels: {}, value: Number.NaN },
      { name: 'm', labels: { a: '' }, value: -Infinity },
    ]);
  });

  it.each([
    ['a sample before HELP and TYPE', 'm 1\n'],
    ['a sample without TYPE', '# HELP m A metric.\nm 1\n'],
    ['TYPE after the samples', `${HEAD}m 1\n# TYPE m gauge\n`],
    ['an unknown TYPE', '# HELP m x\n# TYPE m gauges\nm 1\n'],
    ['a bad escape', `${HEAD}m{a="\\t"} 1\n`],
    ['an unterminated label value', `${HEAD}m{a="x} 1\n`],
    ['an unquoted label value', `${HEAD}m{a=x} 1\n`],
    ['a label given twice', `${HEAD}m{a="1",a="2"} 1\n`],
    ['a bad value', `${HEAD}m 1,5\n`],
    ['two spaces', `${HEAD}m  1\n`],
    ['no trailing newline', `${HEAD}m 1`],
    ['families interleaved', `${HEAD}# HELP n x\n# TYPE n gauge\nn 1\nm 1\n`],
  ])('refuses %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
