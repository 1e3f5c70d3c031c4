/**
 * One walk over a parsed body for what no field's validator sees: text PostgreSQL cannot store
 * and numbers a double cannot carry, at any depth of free-form JSON. A body of 1 MiB holds up to
 * half a million values; walked with a fresh path array per value, the two checks took 0.4 s of
 * the event loop for such a body (measured), so the path is one stack, copied only for a find.
 */

export type Loc = (string | number)[];

export interface TextProblem {
  loc: Loc;
  msg: string;
  type: string;
}

export interface BodyScan {
  /** The first string or key PostgreSQL would refuse: reported before anything else. */
  text: TextProblem | null;
  /**
   * The first number a double cannot carry exactly: past ±(2^53 − 1), where neighbouring
   * integers collapse into one, or overflowed to ±Infinity. Parsed, it has already been
   * rounded, so it is refused rather than stored changed.
   */
  unsafeNumber: Loc | null;
}

export const UNSAFE_NUMBER_MESSAGE =
  'Number out of the range JSON numbers carry exactly (at most ±9007199254740991)';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * PostgreSQL stores neither NUL nor an unpaired UTF-16 surrogate in text or jsonb, and
 * validators choke on the latter: refused wherever they are, pointing at them.
 */
function textProblem(text: string): { msg: string; type: string } | null {
  if (text.includes('\0')) return { msg: 'NUL characters are not allowed', type: 'string_nul' };
  if (LONE_SURROGATE.test(text)) {
    return { msg: 'Unpaired surrogates are not valid Unicode', type: 'string_unicode' };
  }
  return null;
}

/** Walks `value` (a parsed body; its depth is bounded by the JSON parser) from `root`. */
export function scanBody(value: unknown, root: string): BodyScan {
  const path: Loc = [root];
  const scan: BodyScan = { text: null, unsafeNumber: null };
  const refuse = (problem: { msg: string; type: string }) => {
    scan.text = { loc: [...path], ...problem };
    return true;
  };
  // Answers true once a text problem is found: nothing after it is reported.
  const visit = (item: unknown): boolean => {
    if (typeof item === 'string') {
      const problem = textProblem(item);
      return problem ? refuse(problem) : false;
    }
    if (typeof item === 'number') {
      const safe = Number.isFinite(item) && Math.abs(item) <= Number.MAX_SAFE_INTEGER;
      if (!safe && !scan.unsafeNumber) scan.unsafeNumber = [...path];
      return false;
    }
    if (item === null || typeof item !== 'object') return false;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        path.push(i);
        if (visit(item[i])) return true;
        path.pop();
      }
      return false;
    }
    // for…in, not Object.keys: no array per object (a body can hold a quarter million of them).
    for (const key in item) {
      if (!Object.hasOwn(item, key)) continue;
      path.push(key);
      const problem = textProblem(key);
      if (problem) return refuse(problem);
      if (visit((item as Record<string, unknown>)[key])) return true;
      path.pop();
    }
    return false;
  };
  visit(value);
  return scan;
}
