import { HttpError } from './errors.js';

/**
 * Reads a JSON body of at most `limit` bytes. A larger body is refused as soon as it
 * passes the limit, without reading the rest.
 * @throws {@link HttpError} 413, 415, or 400 for malformed JSON.
 */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  // `\b` would also let `application/json-seq` and `application/json+x` through.
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'M28_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }

  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) {
    throw new HttpError(413, 'M28_BODY_TOO_LARGE', `the body is over ${limit} bytes`);
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new HttpError(413, 'M28_BODY_TOO_LARGE', `the body is over ${limit} bytes`);
    }
    chunks.push(value);
  }

  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'M28_MALFORMED_JSON', 'the body is not valid JSON');
  }
}
