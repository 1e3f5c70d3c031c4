import { Module } from '@nestjs/common';
import { WorkerBindingsModule } from '../worker-bindings/worker-bindings.module';
import { DirectoryModule } from './directory.module';
import { PersonErasureService } from './person-erasure.service';
import { PersonsController } from './persons.controller';

/** One person's routes: their erasure reaches the worker bindings, which need the directory. */
@Module({
  imports: [DirectoryModule, WorkerBindingsModule],
  controllers: [PersonsController],
  providers: [PersonErasureService],
})
export class PersonsModule {}
