/**
 * The framework alone: a NestJS application on the Fastify adapter, from the project's own
 * node_modules, with one controller answering GET /healthz as HydraCore's does. What HydraCore's
 * /healthz costs above this is the cost of its own request pipeline. Not part of the API.
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';

@Controller()
class HealthController {
  @Get('healthz')
  health(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [HealthController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter(), {
    logger: false,
  });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.stdout.write('bare ready\n');
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
