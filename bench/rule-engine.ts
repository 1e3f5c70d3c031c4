import { Engine } from 'json-rules-engine';
import { Condition, compileMatcher } from '../src/rules/conditions';
import { triggerType } from '../src/rules/trigger-catalog';
import { BENCH_EVENT_PAYLOAD } from './seed';

/** The 500 rules of seedRules, as condition lists. */
export function benchRules(): Condition[][] {
  const rules: Condition[][] = [];
  for (let g = 1; g <= 497; g++) {
    switch (g % 4) {
      case 0:
        rules.push([{ field: 'amount', operator: 'gt', value: 1_000_000 + g }]);
        break;
      case 1:
        rules.push([
          { field: 'currency', operator: 'eq', value: 'EUR' },
          { field: 'amount', operator: 'gte', value: g },
        ]);
        break;
      case 2:
        rules.push([{ field: 'skill_slug', operator: 'in', value: ['messaging', 'tenancy'] }]);
        break;
      default:
        rules.push([{ field: 'requested_by', operator: 'starts_with', value: `landlord-${g}` }]);
    }
  }
  for (let g = 0; g < 3; g++)
    rules.push([{ field: 'skill_slug', operator: 'eq', value: 'payments' }]);
  return rules;
}

const JRE_OPERATORS: Record<string, string> = {
  eq: 'equal',
  gt: 'greaterThan',
  gte: 'greaterThanInclusive',
  in: 'in',
  starts_with: 'startsWith',
};

/** Events per second through our compiled evaluator and through json-rules-engine, same rules. */
export async function compareRuleEngines(
  durationMs = 3000,
): Promise<{ ours: number; jsonRulesEngine: number; matched: [number, number] }> {
  const trigger = triggerType('skill.invoked')!;
  const rules = benchRules();
  const matchers = rules.map((conditions) => compileMatcher(trigger, conditions));
  const payload = { ...BENCH_EVENT_PAYLOAD };

  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator(
    'startsWith',
    (fact: unknown, value: unknown) => typeof fact === 'string' && fact.startsWith(String(value)),
  );
  rules.forEach((conditions, i) =>
    engine.addRule({
      name: `r${i}`,
      conditions: {
        all: conditions.map((c) => ({
          fact: c.field,
          operator: JRE_OPERATORS[c.operator],
          value: c.value as never,
        })),
      },
      event: { type: 'fired' },
    }),
  );

  const time = async (run: () => unknown): Promise<number> => {
    let n = 0;
    const end = Date.now() + durationMs;
    while (Date.now() < end) {
      for (let i = 0; i < 50; i++) await run();
      n += 50;
    }
    return Math.round((n * 1000) / durationMs);
  };
  const ours = await time(() => matchers.filter((m) => m(payload)).length);
  const jsonRulesEngine = await time(() => engine.run(payload));
  const matched: [number, number] = [
    matchers.filter((m) => m(payload)).length,
    (await engine.run(payload)).events.length,
  ];
  return { ours, jsonRulesEngine, matched };
}
