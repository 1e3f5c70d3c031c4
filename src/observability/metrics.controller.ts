import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Headers, Inject, NotFoundException, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { unauthorized } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Meters } from './meters/meters';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Prometheus' scrape. No credential of a tenant or of the platform opens it: only METRICS_TOKEN,
 * and without one the route is not there at all (404), so a deployment exposes nothing it did
 * not ask for. It opens no tenant transaction: the counts it reads are the platform's.
 */
@ApiTags('Health')
@SkipThrottle() // a scraper is the operator's, and a refused scrape is a gap in every graph
@Controller()
export class MetricsController {
  private readonly token: Buffer | null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly meters: Meters,
  ) {
    this.token = config.metricsToken ? digest(config.metricsToken) : null;
  }

  @Get('metrics')
  @ApiOperation({
    summary: 'Metrics in the Prometheus text format',
    description: 'Authorization: Bearer <METRICS_TOKEN>. 404 when the server has no METRICS_TOKEN.',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text exposition format 0.0.4' })
  async metrics(
    @Headers('authorization') authorization: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Word for word what an unknown route answers.
    if (!this.token) throw new NotFoundException('Cannot GET /metrics');
    // Digests of equal length, compared in constant time: neither the token nor its length leaks.
    const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!given || !timingSafeEqual(digest(given), this.token)) {
      throw unauthorized('A valid metrics token is required');
    }
    const { registry } = this.meters;
    void reply.header('content-type', registry.contentType).send(await registry.metrics());
  }
}
