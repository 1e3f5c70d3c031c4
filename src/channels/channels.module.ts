import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { SecretBox } from '../common/secret-box';
import { DirectoryModule } from '../directory/directory.module';
import { ChannelsController } from './channels.controller';
import { ChannelsRepository } from './channels.repository';
import { ChannelsService } from './channels.service';
import { InternalChannelsController } from './internal-channels.controller';

@Module({
  imports: [AuditModule, DirectoryModule],
  controllers: [ChannelsController, InternalChannelsController],
  providers: [ChannelsService, ChannelsRepository, SecretBox],
})
export class ChannelsModule {}
