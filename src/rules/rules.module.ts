import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DirectoryModule } from '../directory/directory.module';
import { RuleCache } from './engine/rule-cache';
import { RuleEngine } from './engine/rule-engine';
import { RuleFiringRepository } from './engine/rule-firing.repository';
import { EvaluationRetention } from './firing-log/evaluation-retention';
import { FiringLogService } from './firing-log/firing-log.service';
import { FiringsController } from './firing-log/firings.controller';
import { RuleEvaluationsRepository } from './firing-log/rule-evaluations.repository';
import { RulesController } from './rules.controller';
import { RulesRepository } from './rules.repository';
import { RulesService } from './rules.service';

@Module({
  imports: [AuditModule, DirectoryModule],
  controllers: [RulesController, FiringsController],
  providers: [
    RulesService,
    RulesRepository,
    RuleEngine,
    RuleCache,
    RuleFiringRepository,
    FiringLogService,
    RuleEvaluationsRepository,
    EvaluationRetention,
  ],
  exports: [RulesService, RuleEngine],
})
export class RulesModule {}
