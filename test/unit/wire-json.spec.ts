import { RawJson, WireText, rawBytes } from '../../src/common/raw-json';
import { EventOutcome, RuleNotFired } from '../../src/events/dto/events.dto';
import { WireField, toWire } from '../../src/common/wire';
import { isWireResponse, wireJson } from '../../src/common/wire-json';

class Inner {
  @WireField() label!: string;
  @WireField() at!: Date;
}

class Outer {
  @WireField() someText!: string;
  @WireField({ nullable: true }) maybe!: string | null;
  @WireField({ optional: true }) absent?: string;
  @WireField() count!: number;
  @WireField() flag!: boolean;
  @WireField() when!: Date;
  @WireField({ nested: () => Inner }) inner!: Inner;
  @WireField({ nested: () => Inner }) inners!: Inner[];
  @WireField({ json: true }) doc!: unknown;
  @WireField() tags!: string[];
}

const texts = [
  'plain',
  '',
  'say "hi"',
  'back\\slash',
  'line\nbreak\ttab',
  'bell \u0001 and nul \u0000',
  'lone \ud800 surrogate',
  'pair 😀 emoji',
  'separator \u2028 and \u2029',
  'ümlaut and ﬁ ligature',
];

function outer(text: string): Outer {
  return Object.assign(new Outer(), {
    someText: text,
    maybe: null,
    count: Number.NaN,
    flag: true,
    when: new Date('2030-01-02T03:04:05.678Z'),
    inner: Object.assign(new Inner(), { label: text, at: new Date(0) }),
    inners: [Object.assign(new Inner(), { label: 'a', at: new Date(1) })],
    doc: { nested: { list: [1, 'two', null], at: new Date(2), text } },
    tags: [text, 'x'],
  });
}

describe('wireJson', () => {
  it.each(texts)('writes what JSON.stringify(toWire(…)) writes, for %j', (text) => {
    const value = outer(text);
    expect(wireJson(value)).toBe(JSON.stringify(toWire(value)));
    expect(wireJson([value, value])).toBe(JSON.stringify(toWire([value, value])));
  });

  it('splices raw documents as their text, unparsed and unchanged', () => {
    const value = Object.assign(outer('x'), {
      doc: new RawJson('{"kept": [1, 2],  "spacing": true}'),
    });
    const text = wireJson(value);
    expect(text).toContain('"doc":{"kept": [1, 2],  "spacing": true}');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(toWire(value))));
  });

  it('leaves what is not a wire object to JSON.stringify, and says which it writes', () => {
    const plain = { a: 1, b: [new Date(3)], c: new RawJson('{"d": 4}') };
    expect(wireJson(plain)).toBe(JSON.stringify(plain));
    expect(isWireResponse(plain)).toBe(false);
    expect(isWireResponse('text')).toBe(false);
    expect(isWireResponse(undefined)).toBe(false);
    expect(isWireResponse(null)).toBe(false);
    expect(isWireResponse(outer('x'))).toBe(true);
    expect(isWireResponse([])).toBe(true);
    // A stored answer replayed (an Idempotency-Key) is sent as its very bytes.
    expect(isWireResponse(new RawJson('{"a": 1}'))).toBe(true);
    expect(wireJson(new RawJson('{"a": 1}'))).toBe('{"a": 1}');
  });

  it("writes an event's skipped rules given as text as it would write them as objects", () => {
    const ids = ['6f1c2f47-3bd8-4d8e-9a56-0a8f6a1b7c01', '0b9e8a55-2c1d-4e3f-8a7b-6c5d4e3f2a10'];
    const outcome = (skipped: unknown) =>
      Object.assign(new EventOutcome(), {
        event: 'payment.received',
        decision: 'allow',
        fired: [],
        suppressed: [],
        skipped,
        approvals: [],
        workflows: [],
      });
    const objects = ids.map((ruleId) =>
      Object.assign(new RuleNotFired(), { ruleId, reason: 'conditions_not_met' }),
    );
    const text = new WireText(`[${objects.map((o) => wireJson(o)).join(',')}]`);
    expect(wireJson(outcome(text))).toBe(wireJson(outcome(objects)));
    expect(JSON.stringify(toWire(outcome(text)))).toBe(wireJson(outcome(objects)));
  });

  it('counts raw documents toward the pace, and text the process wrote itself not', () => {
    const doc = new RawJson('{"a": [1, 2, 3]}');
    expect(rawBytes({ doc, written: new WireText('[{"b": 1}]') })).toBe(doc.text.length);
  });
});
