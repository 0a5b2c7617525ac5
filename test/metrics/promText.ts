/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for the tests: it throws on
 * any line the grammar does not allow, and on any family whose samples come before its HELP
 * and TYPE lines or are not contiguous.
 */

/** One sample line. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** One metric family, as declared by HELP and TYPE. */
export interface ParsedFamily {
  readonly name: string;
  help: string | undefined;
  type: string | undefined;
  readonly samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|NaN|[+-]?Inf)$/;

function fail(line: number, text: string, why: string): never {
  throw new Error(`line ${line}: ${why}: ${JSON.stringify(text)}`);
}

function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';

    return fail(line, text, `bad escape \\${c} in HELP`);
  });
}

/** Reads a quoted label value from `rest`, which starts after the opening quote. */
function readLabelValue(rest: string, line: number, text: string): [string, string] {
  let value = '';
  for (let i = 0; i < rest.length; i += 1) {
    const c = rest[i];
    if (c === '"') {
      return [value, rest.slice(i + 1)];
    }
    if (c === '\n') {
      fail(line, text, 'raw newline in a label value');
    }
    if (c === '\\') {
      const next = rest[i + 1];
      if (next === '\\') value += '\\';
      else if (next === '"') value += '"';
      else if (next === 'n') value += '\n';
      else fail(line, text, `bad escape \\${next ?? ''} in a label value`);
      i += 1;
    } else {
      value += c;
    }
  }

  return fail(line, text, 'unterminated label value');
}

function parseSample(text: string, line: number): ParsedSample {
  const name = METRIC_NAME.exec(text)?.[0] ?? fail(line, text, 'no metric name');
  let rest = text.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = LABEL_NAME.exec(rest)?.[0] ?? fail(line, text, 'bad label name');
      if (label in labels) fail(line, text, `label ${label} twice`);
      rest = rest.slice(label.length);
      if (!rest.startsWith('="')) fail(line, text, 'expected ="');
      const [value, after] = readLabelValue(rest.slice(2), line, text);
      labels[label] = value;
      rest = after.startsWith(',') ? after.slice(1) : after;
      if (!rest.startsWith('}') && after === rest) fail(line, text, 'expected , or }');
    }
    rest = rest.slice(1);
  }
  const fields = rest.split(' ');
  if (fields[0] !== '' || fields.length < 2 || fields.length > 3) {
    fail(line, text, 'expected one space, a value and an optional timestamp');
  }
  const raw = fields[1] ?? '';
  if (!VALUE.test(raw)) fail(line, text, 'bad value');
  if (fields[2] !== undefined && !/^-?\d+$/.test(fields[2])) fail(line, text, 'bad timestamp');

  return { name, labels, value: Number(raw.replace('Inf', 'Infinity')) };
}

/** Parses `text`, in which every family must have HELP and TYPE before its samples. */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) {
    throw new Error('the exposition must end with a newline');
  }

  const families = new Map<string, ParsedFamily>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) {
      found = { name, help: undefined, type: undefined, samples: [] };
      families.set(name, found);
    }

    return found;
  };
  let current: string | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const n = index + 1;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      const entry = family(name);
      if (entry.samples.length > 0) fail(n, line, `${kind} after the samples of ${name}`);
      if (kind === 'HELP') {
        if (entry.help !== undefined) fail(n, line, 'HELP twice');
        entry.help = unescapeHelp(rest, n);
      } else {
        if (entry.type !== undefined) fail(n, line, 'TYPE twice');
        if (!TYPES.has(rest)) fail(n, line, 'unknown TYPE');
        entry.type = rest;
      }
      current = name;

      return;
    }
    if (line.startsWith('#') || line.trim() === '') {
      return;
    }

    const sample = parseSample(line, n);
    const entry = families.get(sample.name);
    if (!entry?.help || !entry.type) fail(n, line, 'a sample before its HELP and TYPE');
    if (current !== sample.name) fail(n, line, 'the samples of a family are not together');
    entry.samples.push(sample);
  });

  return families;
}
