import { Module } from '@nestjs/common';
import { SecretBox } from '../common/secret-box';
import { DirectoryModule } from '../directory/directory.module';
import { ChannelsController } from './channels.controller';
import { ChannelsRepository } from './channels.repository';
import { ChannelsService } from './channels.service';

@Module({
  imports: [DirectoryModule],
  controllers: [ChannelsController],
  providers: [ChannelsService, ChannelsRepository, SecretBox],
})
export class ChannelsModule {}
