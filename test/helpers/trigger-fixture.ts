import { TriggerType } from '../../src/rules/trigger-catalog';

/** A trigger with one payload field of every type, for the condition tests. */
export const TEST_TRIGGER: TriggerType = {
  event: 'test.event',
  label: 'Test',
  description: 'fields of every type',
  payloadFields: [
    { name: 's', type: 'string', label: 'S' },
    { name: 'n', type: 'number', label: 'N' },
    { name: 'b', type: 'boolean', label: 'B' },
    { name: 'e', type: 'enum', label: 'E', values: ['low', 'high'] },
    { name: 'd', type: 'datetime', label: 'D' },
  ],
};
