/** What the audit log shows of a rule's changes: what it says, not its counters. */
export const RULE_FIELDS = [
  'customerId',
  'instanceId',
  'name',
  'description',
  'triggerEvent',
  'conditions',
  'actions',
  'priority',
  'cooldownSeconds',
  'isActive',
  'ruleKey',
  'allowCustomerOverride',
] as const;
