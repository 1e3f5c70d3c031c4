import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { DataSource } from 'typeorm';
import { prepared } from '../database/prepared';

const READY_TIMEOUT_MS = 2000;

@ApiTags('Health')
@SkipThrottle() // probes of load balancers and orchestrators are never refused
@Controller()
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: string } {
    return { status: 'ok' };
  }

  /**
   * Readiness: the database answers within two seconds (no tenant data is touched), through a
   * prepared statement as the hot paths' are, so a pooler losing them fails this too.
   */
  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the database answers' })
  async ready(): Promise<{ status: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.dataSource.query(prepared('SELECT 1 AS ready')), timeout]);
      return { status: 'ready' };
    } catch {
      throw new ServiceUnavailableException('Database unavailable');
    } finally {
      clearTimeout(timer);
    }
  }
}
