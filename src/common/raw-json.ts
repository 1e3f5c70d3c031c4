import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * JSON text read from the database and sent as it is, never parsed on the way through. A
 * document's text costs about its size in memory; parsed, a 256 KiB array of empty objects
 * costs some 5 MB of heap, and a page of them more than the process has.
 */
export class RawJson {
  constructor(readonly text: string) {}

  /** For the few places that need the value itself (a merge). */
  parse<T>(): T {
    return JSON.parse(this.text) as T;
  }

  /** Anything that serialises it outside the wire path gets the value, not this wrapper. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * JSON text this process wrote for the wire from values it holds, sent as it is like a raw
 * document, but not a document: a tenant's pace is not charged for it. For a long list of
 * small fixed entries written once and sent often (an event's skipped rules).
 */
export class WireText extends RawJson {}

/**
 * How much raw document text a handler's result carries: the entities and lists it is made
 * of are walked, the documents themselves are not. Every request with a result pays for this
 * walk, so it allocates nothing: with `Object.values` and a call per field it cost an event's
 * answer of 500 rules 97 µs, as much as writing that answer out (11–20 µs now, in process).
 * Remembered for each result: the tenant transaction charges it and the wire mapping then
 * asks again, whether to stream it, of the same result. A handler's result is not changed once
 * it is returned; one that was would be weighed as it was first.
 */
export function rawBytes(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let bytes = weighed.get(value);
  if (bytes === undefined) {
    bytes = weigh(value, 0);
    weighed.set(value, bytes);
  }
  return bytes;
}

const weighed = new WeakMap<object, number>();

function weigh(value: unknown, depth: number): number {
  if (value instanceof RawJson) return value instanceof WireText ? 0 : value.text.length;
  if (value === null || typeof value !== 'object' || depth > 3 || ArrayBuffer.isView(value))
    return 0;
  let bytes = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object') bytes += weigh(item, depth + 1);
    }
    return bytes;
  }
  const fields = value as Record<string, unknown>;
  for (const key in fields) {
    const item = fields[key];
    if (item !== null && typeof item === 'object') bytes += weigh(item, depth + 1);
  }
  return bytes;
}

/**
 * Placeholders for raw documents while the rest of a response is stringified: a string no
 * request can produce (it holds a NUL, which text and jsonb columns refuse, and a secret).
 */
const MARK = `\u0000raw:${randomBytes(12).toString('hex')}:`;
const MARKED = new RegExp(`"\\\\u0000raw:${MARK.slice(5, -1)}:(\\d+)"`, 'g');

/** Collects the raw documents of one response while `toWire` maps it. */
export class RawSlots {
  private readonly texts: string[] = [];

  hold(raw: RawJson): string {
    return `${MARK}${this.texts.push(raw.text) - 1}`;
  }

  get empty(): boolean {
    return this.texts.length === 0;
  }

  /** How much the held documents weigh, in characters. */
  get size(): number {
    return this.texts.reduce((n, text) => n + text.length, 0);
  }

  /**
   * The response's JSON as a stream, a document at a time, each placeholder replaced by its
   * document: a large response is never built as one string, and the event loop serves other
   * requests between its pieces while the client reads.
   */
  stream(value: unknown): Readable {
    const texts = this.texts;
    const skeleton = JSON.stringify(value);
    function* pieces(): Generator<string> {
      let at = 0;
      for (const mark of skeleton.matchAll(MARKED)) {
        yield skeleton.slice(at, mark.index);
        yield texts[Number(mark[1])];
        at = mark.index + mark[0].length;
      }
      yield skeleton.slice(at);
    }
    return Readable.from(pieces(), { objectMode: false });
  }
}
