/**
 * Parses PostgreSQL's text form of a one-dimensional `text[]`, such as
 * `{a,"b,c","quote\"d",NULL}`, into its elements. Quoted elements keep every character,
 * with a backslash escaping the next one; an unquoted `NULL` is null.
 * @throws {@link SyntaxError} when `literal` is not a one-dimensional array literal.
 */
export function parseTextArray(literal: string): (string | null)[] {
  if (!literal.startsWith('{') || !literal.endsWith('}')) {
    throw new SyntaxError('not a PostgreSQL array literal');
  }
  const elements: (string | null)[] = [];
  const body = literal.slice(1, -1);
  let index = 0;
  while (index < body.length) {
    let element = '';
    if (body[index] === '"') {
      index += 1;
      while (index < body.length && body[index] !== '"') {
        if (body[index] === '\\') {
          index += 1;
        }
        element += body[index] ?? '';
        index += 1;
      }
      index += 1;
      elements.push(element);
    } else {
      while (index < body.length && body[index] !== ',') {
        element += body[index];
        index += 1;
      }
      if (element.includes('{')) {
        throw new SyntaxError('nested arrays are not supported');
      }
      elements.push(element.toUpperCase() === 'NULL' ? null : element);
    }
    if (index < body.length && body[index] !== ',') {
      throw new SyntaxError('malformed PostgreSQL array literal');
    }
    index += 1;
  }

  return elements;
}
