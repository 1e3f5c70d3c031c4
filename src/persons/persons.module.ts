import { Module } from '@nestjs/common';
import { WorkerBindingsModule } from '../worker-bindings/worker-bindings.module';
import { DirectoryModule } from '../directory/directory.module';
import { PersonErasureService } from './person-erasure.service';
import { PersonsController } from './persons.controller';

/**
 * One person's routes. Above both the directory and the worker bindings (which depend on the
 * directory): a person's erasure revokes their bindings.
 */
@Module({
  imports: [DirectoryModule, WorkerBindingsModule],
  controllers: [PersonsController],
  providers: [PersonErasureService],
})
export class PersonsModule {}
