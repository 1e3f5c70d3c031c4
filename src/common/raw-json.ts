import { randomBytes } from 'node:crypto';

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

  /** The response's JSON with each placeholder replaced by its document. */
  stringify(value: unknown): string {
    return JSON.stringify(value).replace(MARKED, (_, i: string) => this.texts[Number(i)]);
  }
}
