import { wireLoc } from '../../src/common/wire';
import { validateConditions } from '../../src/rules/condition-validation';
import { OPERATORS, OPERATORS_BY_TYPE } from '../../src/rules/conditions';
import { TEST_TRIGGER as trigger } from '../helpers/trigger-fixture';

describe('condition validation', () => {
  const check = (conditions: unknown) =>
    validateConditions(trigger, conditions).errors.map(wireLoc);

  it('accepts valid conditions and drops unknown keys', () => {
    const { conditions, errors } = validateConditions(trigger, [
      { field: 'n', operator: 'gte', value: 1, extra: true },
      { field: 's', operator: 'exists' },
    ]);
    expect(errors).toEqual([]);
    expect(conditions).toEqual([
      { field: 'n', operator: 'gte', value: 1 },
      { field: 's', operator: 'exists' },
    ]);
  });

  it.each<[unknown, (string | number)[]]>([
    [[{ field: 'nope', operator: 'eq', value: 1 }], ['body', 'conditions', 0, 'field']],
    [[{ field: 's', operator: 'gt', value: 'a' }], ['body', 'conditions', 0, 'operator']],
    [
      [
        { field: 's', operator: 'eq', value: 'a' },
        { field: 'b', operator: 'contains', value: 'x' },
      ],
      ['body', 'conditions', 1, 'operator'],
    ],
    [[{ field: 'n', operator: 'eq', value: '5' }], ['body', 'conditions', 0, 'value']],
    [[{ field: 'n', operator: 'in', value: [1, 'two'] }], ['body', 'conditions', 0, 'value']],
    [[{ field: 'n', operator: 'in', value: [] }], ['body', 'conditions', 0, 'value']],
    [[{ field: 'e', operator: 'eq', value: 'medium' }], ['body', 'conditions', 0, 'value']],
    [[{ field: 'd', operator: 'gt', value: '2030-13-01' }], ['body', 'conditions', 0, 'value']],
    // Times are RFC 3339 only, as everywhere: seconds required, real calendar days.
    [
      [{ field: 'd', operator: 'gt', value: '2030-01-01T00:00Z' }],
      ['body', 'conditions', 0, 'value'],
    ],
    [
      [{ field: 'd', operator: 'gt', value: '2030-02-30T00:00:00Z' }],
      ['body', 'conditions', 0, 'value'],
    ],
    [[{ field: 'd', operator: 'gt', value: '2030-W01-1' }], ['body', 'conditions', 0, 'value']],
    [[{ field: 'b', operator: 'eq', value: 'true' }], ['body', 'conditions', 0, 'value']],
    [[{ field: 's', operator: 'exists', value: 'x' }], ['body', 'conditions', 0, 'value']],
    [[{ field: 'n', operator: 'eq', value: Infinity }], ['body', 'conditions', 0, 'value']],
    [['eq'], ['body', 'conditions', 0]],
    [{ field: 's' }, ['body', 'conditions']],
  ])('refuses %j at %j', (conditions, loc) => {
    expect(check(conditions).map((e) => e.loc)).toEqual([loc]);
  });

  it('accepts an RFC 3339 time with an offset', () => {
    expect(check([{ field: 'd', operator: 'lt', value: '2030-01-01T09:30:00.5+01:00' }])).toEqual(
      [],
    );
  });

  it('knows every operator', () => {
    expect(new Set(Object.values(OPERATORS_BY_TYPE).flat())).toEqual(new Set(OPERATORS));
  });
});
