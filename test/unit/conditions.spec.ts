import {
  Condition,
  OPERATORS_BY_TYPE,
  compileConditions,
  compileMatcher,
} from '../../src/rules/conditions';
import { FIELD_TYPES } from '../../src/rules/trigger-catalog';
import { TEST_TRIGGER as trigger } from '../helpers/trigger-fixture';

const run = (c: Condition, payload: Record<string, unknown>) =>
  compileConditions(trigger, [c])(payload)[0].passed;

// [field, operator, value, payload value, expected]
const CASES: [string, string, unknown, unknown, boolean][] = [
  ['s', 'eq', 'Boiler', 'boiler', true],
  ['s', 'eq', 'boiler', 'boilers', false],
  ['s', 'neq', 'a', 'b', true],
  ['s', 'neq', 'a', 'A', false],
  ['s', 'in', ['Gas', 'water'], 'GAS', true],
  ['s', 'in', ['gas'], 'oil', false],
  ['s', 'not_in', ['gas'], 'oil', true],
  ['s', 'not_in', ['gas'], 'Gas', false],
  ['s', 'contains', 'LEAK', 'a small leak here', true],
  ['s', 'contains', 'fire', 'a small leak', false],
  ['s', 'not_contains', 'fire', 'a leak', true],
  ['s', 'not_contains', 'leak', 'Leaky', false],
  ['s', 'starts_with', 'urg', 'URGENT: boiler', true],
  ['s', 'starts_with', 'boiler', 'urgent boiler', false],
  ['s', 'exists', undefined, 'x', true],
  ['s', 'exists', undefined, undefined, false],
  ['s', 'not_exists', undefined, undefined, true],
  ['s', 'not_exists', undefined, 'x', false],
  ['n', 'eq', 500, 500, true],
  ['n', 'eq', 500, '500', true],
  ['n', 'eq', 500, '500abc', false],
  ['n', 'neq', 500, 499.5, true],
  ['n', 'gt', 500, 500.01, true],
  ['n', 'gt', 500, 500, false],
  ['n', 'gte', 500, 500, true],
  ['n', 'gte', 500, ' 499 ', false],
  ['n', 'lt', 0, -1, true],
  ['n', 'lt', 0, 0, false],
  ['n', 'lte', 0, 0, true],
  ['n', 'lte', 0, 'zero', false],
  ['n', 'in', [1, 2, 3], 2, true],
  ['n', 'in', [1, 2, 3], '3', true],
  ['n', 'in', [1, 2, 3], 4, false],
  ['n', 'not_in', [1, 2], 3, true],
  ['n', 'not_in', [1, 2], 2, false],
  ['n', 'exists', undefined, 0, true],
  ['n', 'not_exists', undefined, 0, false],
  ['b', 'eq', true, true, true],
  ['b', 'eq', true, false, false],
  ['b', 'eq', false, 'false', true],
  ['b', 'neq', true, false, true],
  ['b', 'neq', true, true, false],
  ['b', 'exists', undefined, false, true],
  ['b', 'not_exists', undefined, false, false],
  ['e', 'eq', 'high', 'high', true],
  ['e', 'eq', 'high', 'HIGH', false],
  ['e', 'neq', 'high', 'low', true],
  ['e', 'in', ['low', 'high'], 'low', true],
  ['e', 'in', ['high'], 'low', false],
  ['e', 'not_in', ['high'], 'low', true],
  ['e', 'not_in', ['low'], 'low', false],
  ['e', 'exists', undefined, 'low', true],
  ['e', 'not_exists', undefined, undefined, true],
  ['d', 'eq', '2030-01-01T00:00:00Z', '2030-01-01T01:00:00+01:00', true],
  ['d', 'neq', '2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z', true],
  ['d', 'gt', '2030-01-01T00:00:00Z', '2030-01-01T00:00:01Z', true],
  ['d', 'gt', '2030-01-01T00:00:00Z', '2029-12-31T23:59:59Z', false],
  ['d', 'gte', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000Z', true],
  ['d', 'lt', '2030-01-01T00:00:00Z', '2029-01-01T00:00:00Z', true],
  ['d', 'lte', '2030-01-01T00:00:00Z', 'not a date', false],
  ['d', 'exists', undefined, '2030-01-01T00:00:00Z', true],
  ['d', 'not_exists', undefined, null, true],
];

describe('condition evaluation', () => {
  it.each(CASES)('%s %s %j against %j → %s', (field, operator, value, actual, expected) => {
    const payload = actual === undefined ? {} : { [field]: actual };
    expect(run({ field, operator, value } as Condition, payload)).toBe(expected);
  });

  it.each([
    ['payments ', true],
    [' payments', true],
    ['ｐａｙｍｅｎｔｓ', true],
    ['payments\u200b', true],
    ['pay\u00adments', true],
    ['\u202epayments', true],
    ['paymentſ', true],
    ['PAYMENTS', true],
    ['payment s', false],
    ['paymentz', false],
  ])('reads %j as a person does when a rule compares it with "payments"', (actual, expected) => {
    for (const operator of ['eq', 'in', 'starts_with', 'contains'] as const) {
      const value = operator === 'in' ? ['payments'] : 'payments';
      expect([operator, run({ field: 's', operator, value }, { s: actual })]).toEqual([
        operator,
        expected,
      ]);
    }
    expect(run({ field: 's', operator: 'neq', value: 'payments' }, { s: actual })).toBe(!expected);
  });

  it('keeps what is visible: an emoji joined by zero-width joiners is the same emoji', () => {
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    expect(run({ field: 's', operator: 'contains', value: family }, { s: `hi ${family}` })).toBe(
      true,
    );
    expect(
      run({ field: 's', operator: 'contains', value: 'line two' }, { s: 'one\nline two' }),
    ).toBe(true);
  });

  it('covers every operator allowed for every type', () => {
    for (const type of FIELD_TYPES) {
      const field = trigger.payloadFields.find((f) => f.type === type)!.name;
      const covered = new Set(CASES.filter((c) => c[0] === field).map((c) => c[1]));
      expect([type, [...covered].sort()]).toEqual([type, [...OPERATORS_BY_TYPE[type]].sort()]);
    }
  });

  it('treats a missing or null field as no match for every operator but not_exists', () => {
    for (const type of FIELD_TYPES) {
      const field = trigger.payloadFields.find((f) => f.type === type)!;
      for (const operator of OPERATORS_BY_TYPE[type]) {
        const value =
          operator === 'in' || operator === 'not_in'
            ? []
            : operator.endsWith('exists')
              ? undefined
              : 'x';
        for (const payload of [{}, { [field.name]: null }]) {
          expect([type, operator, run({ field: field.name, operator, value }, payload)]).toEqual([
            type,
            operator,
            operator === 'not_exists',
          ]);
        }
      }
    }
  });

  it('fires exactly when the dry run says every condition passed', () => {
    for (const [field, operator, value, actual, expected] of CASES) {
      const payload = actual === undefined ? {} : { [field]: actual };
      expect(compileMatcher(trigger, [{ field, operator, value } as Condition])(payload)).toBe(
        expected,
      );
    }
    const both: Condition[] = [
      { field: 'n', operator: 'gt', value: 1 },
      { field: 's', operator: 'contains', value: 'a' },
    ];
    expect(compileMatcher(trigger, both)({ n: 2, s: 'cat' })).toBe(true);
    expect(compileMatcher(trigger, both)({ n: 2, s: 'dog' })).toBe(false);
    expect(compileMatcher(trigger, [])({})).toBe(true);
  });

  it('reports expected and actual as given', () => {
    const [r] = compileConditions(trigger, [{ field: 'n', operator: 'gt', value: 10 }])({
      n: '12',
    });
    expect(r).toEqual({ field: 'n', operator: 'gt', expected: 10, actual: '12', passed: true });
  });

  it('ignores inherited properties of the payload', () => {
    expect(
      run(
        { field: 's', operator: 'exists' },
        Object.create({ s: 'inherited' }) as Record<string, unknown>,
      ),
    ).toBe(false);
  });
});
