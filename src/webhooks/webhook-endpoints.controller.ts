import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audit-context';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { CarriesSecret } from '../common/carries-secret';
import { UuidParam } from '../common/params';
import { DeliveriesQuery, WebhookDeliveryList } from './dto/webhook-deliveries.dto';
import {
  CreateWebhookEndpointDto,
  CreatedWebhookEndpoint,
  ReplayDto,
  ReplayQueued,
  RotatedSecret,
  UpdateWebhookEndpointDto,
  WebhookEndpointList,
} from './dto/webhook-endpoints.dto';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import {
  REPLAY_LIMIT,
  REPLAY_MAX_PENDING,
  WebhookEndpointsService,
} from './webhook-endpoints.service';

const SIGNING =
  'Deliveries follow Standard Webhooks 1.0: a POST of the event (as the feed shows it) with `webhook-id` (the event id, the same on every attempt), `webhook-timestamp` and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the secret; two, space-separated, for 24 hours after a rotation). Any Standard Webhooks library verifies them. A 2xx within the timeout is success; anything else is retried on the schedule with jitter, then the delivery is failed. An endpoint whose every attempt has failed for five days is disabled.';

@ApiTags('Webhook endpoints')
@Controller('v1/webhook-endpoints')
export class WebhookEndpointsController {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  @Audited()
  @Post()
  @CarriesSecret()
  @DashboardAuth('tenant-admin')
  @ApiOperation({
    summary: 'Create Webhook Endpoint',
    description: `Registers a URL to receive the tenant's events, of the given types (or all) and, with instance_id, only that instance's and the tenant's of no instance. The answer carries the signing secret, shown this once. At most 50 endpoints per tenant. ${SIGNING} Requires a tenant admin.`,
  })
  @ApiResponse({ status: 201, type: CreatedWebhookEndpoint })
  create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateWebhookEndpointDto,
  ): Promise<CreatedWebhookEndpoint> {
    return this.endpoints.create(p.tenantId, dto);
  }

  @Get()
  @DashboardAuth('tenant-admin')
  @ApiOperation({ summary: 'List Webhook Endpoints', description: 'Oldest first.' })
  @ApiResponse({ status: 200, type: WebhookEndpointList })
  async list(@CurrentPrincipal() p: Principal) {
    return WebhookEndpointList.of(await this.endpoints.list(p.tenantId));
  }

  @Get(':endpoint_id')
  @DashboardAuth('tenant-admin')
  @ApiOperation({ summary: 'Get Webhook Endpoint' })
  @ApiResponse({ status: 200, type: WebhookEndpoint })
  get(
    @CurrentPrincipal() p: Principal,
    @UuidParam('endpoint_id') id: string,
  ): Promise<WebhookEndpoint> {
    return this.endpoints.get(p.tenantId, id);
  }

  @Audited()
  @Patch(':endpoint_id')
  @DashboardAuth('tenant-admin')
  @ApiOperation({
    summary: 'Update Webhook Endpoint',
    description:
      'Only the fields sent change. A disabled endpoint queues nothing new; what was queued waits until it is enabled again.',
  })
  @ApiResponse({ status: 200, type: WebhookEndpoint })
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('endpoint_id') id: string,
    @Body() dto: UpdateWebhookEndpointDto,
  ): Promise<WebhookEndpoint> {
    return this.endpoints.update(p.tenantId, id, dto);
  }

  @Audited()
  @Delete(':endpoint_id')
  @HttpCode(204)
  @DashboardAuth('tenant-admin')
  @ApiOperation({ summary: 'Delete Webhook Endpoint', description: 'With its deliveries.' })
  async delete(
    @CurrentPrincipal() p: Principal,
    @UuidParam('endpoint_id') id: string,
  ): Promise<void> {
    await this.endpoints.delete(p.tenantId, id);
  }

  @Audited()
  @Post(':endpoint_id/rotate-secret')
  @HttpCode(200)
  @CarriesSecret()
  @DashboardAuth('tenant-admin')
  @ApiOperation({
    summary: 'Rotate Webhook Secret',
    description:
      'A new signing secret, shown this once. For 24 hours deliveries carry signatures under both the previous and the new secret, so receivers can switch without losing one.',
  })
  @ApiResponse({ status: 200, type: RotatedSecret })
  rotate(
    @CurrentPrincipal() p: Principal,
    @UuidParam('endpoint_id') id: string,
  ): Promise<RotatedSecret> {
    return this.endpoints.rotate(p.tenantId, id);
  }

  @Get(':endpoint_id/deliveries')
  @DashboardAuth('tenant-admin')
  @ApiOperation({
    summary: 'List Webhook Deliveries',
    description:
      "The endpoint's deliveries, newest first, with how their attempts went. Paging: pass the `id` of a page's last delivery as `after` for the next, older page; a page shorter than `limit` is the last. Deliveries go with their event when retention removes it.",
  })
  @ApiResponse({ status: 200, type: WebhookDeliveryList })
  async deliveries(
    @CurrentPrincipal() p: Principal,
    @UuidParam('endpoint_id') id: string,
    @Query() q: DeliveriesQuery,
  ) {
    return WebhookDeliveryList.of(await this.endpoints.deliveryPage(p.tenantId, id, q));
  }

  @Audited()
  @Post(':endpoint_id/deliveries/:delivery_id/retry')
  @HttpCode(202)
  @DashboardAuth('tenant-admin')
  @ApiOperation({
    summary: 'Retry Webhook Delivery',
    description:
      'Makes the delivery due now with a fresh retry schedule, whatever its status. An attempt already under way finishes first.',
  })
  @ApiResponse({ status: 202, type: WebhookDelivery, description: 'The delivery, due now' })
  retry(
    @CurrentPrincipal() p: Principal,
    @UuidParam('endpoint_id') id: string,
    @UuidParam('delivery_id') deliveryId: string,
  ): Promise<WebhookDelivery> {
    return this.endpoints.retry(p.tenantId, id, deliveryId);
  }

  @Audited()
  @Post(':endpoint_id/replay')
  @HttpCode(202)
  @DashboardAuth('tenant-admin')
  @ApiOperation({
    summary: 'Replay Webhook Events',
    description: `Delivers again every retained event of the endpoint's types (and instance) that occurred since \`since\`, whether delivered before or not; receivers tell a repeat by its \`webhook-id\`. At most ${REPLAY_LIMIT} events a call, in feed order: when it stops there, \`next_after\` says where to go on from (send the same \`since\` and it as \`after\`), until it is null. (\`next_since\`, kept for older clients, misses an event that took an earlier time than one before it in the feed.) Refused (409) while the tenant has ${REPLAY_MAX_PENDING} deliveries pending or more, counting those of every endpoint.`,
  })
  @ApiResponse({ status: 202, type: ReplayQueued })
  replay(
    @CurrentPrincipal() p: Principal,
    @UuidParam('endpoint_id') id: string,
    @Body() dto: ReplayDto,
  ): Promise<ReplayQueued> {
    return this.endpoints.replay(p.tenantId, id, dto);
  }
}
