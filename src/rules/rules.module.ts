import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module';
import { RulesController } from './rules.controller';
import { RulesRepository } from './rules.repository';
import { RulesService } from './rules.service';

@Module({
  imports: [DirectoryModule],
  controllers: [RulesController],
  providers: [RulesService, RulesRepository],
  exports: [RulesService, RulesRepository],
})
export class RulesModule {}
