import { WireField } from '../../common/wire';
import { LoggedEvent } from '../../event-log/logged-event.entity';
import { RuleEvaluation } from '../../rules/firing-log/firings.dto';

/** An event as the dashboard shows one, with what the rules made of it. */
export class EventDetail extends LoggedEvent {
  @WireField({
    type: [RuleEvaluation],
    nested: () => RuleEvaluation,
    description:
      'The rules evaluated for this event, in the order the engine took them: those that fired ' +
      'or were held back, and those skipped with the first condition they failed. Empty for an ' +
      'event no rule triggers on.',
  })
  ruleEvaluations!: RuleEvaluation[];
}
