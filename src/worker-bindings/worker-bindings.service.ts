import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { changesOf } from '../audit/changes';
import { Principal, assertCustomerAccess } from '../auth/principal';
import { conflict, invalidField, notFound } from '../common/errors';
import { DirectoryService } from '../directory/directory.service';
import { EventLogService, NewEvent } from '../event-log/event-log.service';
import { BindingChannel, normaliseAddress } from './addresses';
import { BINDING_EVENTS, BindingEventData, BindingEventType } from './binding-events';
import { BindingLookup, BindingParty, CreateBindingDto } from './dto/worker-bindings.dto';
import { WorkerBinding } from './worker-binding.entity';
import { WorkerBindingsRepository } from './worker-bindings.repository';

/**
 * Where a call comes from: the agent runtime names its instance; the dashboard names the
 * customer in its path. Both transports share every rule below.
 */
export interface BindingCaller {
  principal: Principal;
  instanceId: string | null;
  pathCustomerId?: string;
}

/** The request fields that carry an address, and how their messages name them to the client. */
const ADDRESS_LABELS = { channelAddress: 'channel_address', newAddress: 'new_address' } as const;
type AddressField = keyof typeof ADDRESS_LABELS;

const party = (row: { id: string; name: string }) =>
  Object.assign(new BindingParty(), { id: row.id, name: row.name });

/** What the audit log shows of a binding's changes. */
const BINDING_FIELDS = [
  'customerId',
  'personId',
  'instanceId',
  'channelType',
  'channelAddress',
  'status',
  'verifiedAt',
  'revokedAt',
  'previousBindingId',
] as const;
/** Personal data that a person's erasure must reach: an append-only log never holds it. */
const BINDING_WITHHELD = ['channelAddress'] as const;

/** Bindings belong to a customer and are visible to every instance of the tenant. */
@Injectable()
export class WorkerBindingsService {
  constructor(
    private readonly repo: WorkerBindingsRepository,
    private readonly directory: DirectoryService,
    private readonly events: EventLogService,
    private readonly audit: AuditService,
  ) {}

  async list(caller: BindingCaller, customerId: string): Promise<WorkerBinding[]> {
    assertCustomerAccess(caller.principal, customerId);
    await this.directory.getCustomer(caller.principal.tenantId, customerId);
    return this.repo.list(caller.principal.tenantId, customerId);
  }

  /**
   * Who answers on this address: the live binding, made by any instance of the tenant or on the
   * dashboard (a binding is the customer's, as `list` shows to every instance), with its person
   * and customer. The address is normalised as bindings store it, so any spelling finds it.
   */
  async lookup(
    caller: BindingCaller,
    channelType: BindingChannel,
    rawAddress: string,
  ): Promise<BindingLookup> {
    const { tenantId } = caller.principal;
    const normalised = normaliseAddress(channelType, rawAddress);
    if (!normalised.ok) {
      throw invalidField('address', `address ${normalised.reason}`, 'value_error', [], 'query');
    }
    const binding = await this.repo.findLive(tenantId, channelType, normalised.address);
    // The person's row goes with its bindings (ON DELETE CASCADE): missing, the binding is too.
    const person =
      binding && (await this.directory.findPerson(tenantId, binding.customerId, binding.personId));
    if (!binding || !person) throw notFound('Binding');
    const customer = await this.directory.getCustomer(tenantId, binding.customerId);
    return Object.assign(new BindingLookup(), binding, {
      person: party(person),
      customer: party(customer),
    });
  }

  async create(caller: BindingCaller, dto: CreateBindingDto): Promise<WorkerBinding> {
    const { tenantId } = caller.principal;
    if (caller.pathCustomerId !== undefined) {
      assertCustomerAccess(caller.principal, caller.pathCustomerId);
      await this.directory.getCustomer(tenantId, caller.pathCustomerId);
      if (dto.customerId !== caller.pathCustomerId) {
        throw invalidField('customerId', 'must equal the customer_id in the path');
      }
    }
    assertCustomerAccess(caller.principal, dto.customerId);
    const address = this.normalise(dto.channelType, dto.channelAddress, 'channelAddress');
    if (!(await this.directory.holdPerson(tenantId, dto.customerId, dto.personId))) {
      const customerFound = await this.directory.customerExists(tenantId, dto.customerId);
      throw customerFound
        ? invalidField('personId', 'Person not found for this customer')
        : invalidField('customerId', 'Customer not found');
    }
    const binding = await this.repo.insert(tenantId, {
      customerId: dto.customerId,
      personId: dto.personId,
      instanceId: caller.instanceId,
      channelType: dto.channelType,
      channelAddress: address,
      previousBindingId: null,
    });
    await this.record(caller, [BINDING_EVENTS.created, binding]);
    await this.audited('created', null, binding);
    return binding;
  }

  /** In one transaction: the old binding is revoked and its unverified successor created. */
  async rebind(
    caller: BindingCaller,
    bindingId: string,
    newAddress: string,
  ): Promise<WorkerBinding> {
    // The person before the binding, in the order their erasure locks them: the other order
    // could deadlock with it. An erased person's bindings are revoked: liveBinding says so.
    const { tenantId } = caller.principal;
    const target = await this.repo.find(tenantId, bindingId);
    if (target) await this.directory.holdPerson(tenantId, target.customerId, target.personId);
    const old = await this.liveBinding(caller, bindingId);
    const address = this.normalise(old.channelType, newAddress, 'newAddress');
    const revoked = await this.repo.setStatus(old, 'revoked');
    const binding = await this.repo.insert(caller.principal.tenantId, {
      customerId: old.customerId,
      personId: old.personId,
      instanceId: caller.instanceId,
      channelType: old.channelType,
      channelAddress: address,
      previousBindingId: old.id,
    });
    await this.record(caller, [BINDING_EVENTS.revoked, revoked], [BINDING_EVENTS.created, binding]);
    await this.audited('revoked', old, revoked);
    await this.audited('created', null, binding);
    return binding;
  }

  async revoke(caller: BindingCaller, bindingId: string): Promise<WorkerBinding> {
    const live = await this.liveBinding(caller, bindingId);
    const revoked = await this.repo.setStatus(live, 'revoked');
    await this.record(caller, [BINDING_EVENTS.revoked, revoked]);
    await this.audited('revoked', live, revoked);
    return revoked;
  }

  /** The runtime confirms the person proved the address. Verifying twice changes nothing. */
  async verify(caller: BindingCaller, bindingId: string): Promise<WorkerBinding> {
    const binding = await this.liveBinding(caller, bindingId);
    if (binding.status === 'verified') return binding;
    const verified = await this.repo.setStatus(binding, 'verified');
    await this.record(caller, [BINDING_EVENTS.verified, verified]);
    return verified;
  }

  /**
   * A person's erasure: every binding of theirs loses its address to a tombstone
   * (`erased:<binding id>`), live ones are revoked (one binding.revoked event and audit entry
   * each, the event carrying the tombstone), and the events and kept idempotent answers that carried those addresses are
   * scrubbed alike, all in the caller's transaction. The caller has locked the person.
   */
  async eraseForPerson(caller: BindingCaller, customerId: string, personId: string) {
    const { tenantId } = caller.principal;
    const erased = await this.repo.erasePerson(tenantId, customerId, personId);
    const live = erased.filter((e) => e.wasLive);
    for (const e of live) await this.audited('revoked', e.before, e.binding);
    const revoked = live.map((e) => e.binding);
    await this.record(
      caller,
      ...revoked.map((b): [BindingEventType, WorkerBinding] => [BINDING_EVENTS.revoked, b]),
    );
    const ids = erased.map((e) => e.binding.id);
    await this.events.scrubBindingAddresses(tenantId, ids);
    await this.repo.scrubStoredAnswers(tenantId, ids);
  }

  /**
   * Records binding changes, in order. An event names the instance that made the change, or
   * on the dashboard's routes the binding's own instance, if it has one.
   */
  private async record(
    caller: BindingCaller,
    ...changes: [BindingEventType, WorkerBinding][]
  ): Promise<void> {
    const events: NewEvent[] = changes.map(([type, binding]) => ({
      type,
      instanceId: caller.instanceId ?? binding.instanceId,
      customerId: binding.customerId,
      data: Object.assign(new BindingEventData(), { binding }),
    }));
    await this.events.record(caller.principal.tenantId, ...events);
  }

  private audited(
    what: 'created' | 'revoked',
    before: WorkerBinding | null,
    after: WorkerBinding,
  ): Promise<void> {
    return this.audit.record({
      action: `binding.${what}`,
      targetType: 'binding',
      targetId: after.id,
      changes: changesOf(before, after, BINDING_FIELDS, BINDING_WITHHELD),
    });
  }

  /** The binding, row-locked, in the caller's reach and not revoked. */
  private async liveBinding(caller: BindingCaller, bindingId: string): Promise<WorkerBinding> {
    if (caller.pathCustomerId !== undefined)
      assertCustomerAccess(caller.principal, caller.pathCustomerId);
    const binding = await this.repo.lock(caller.principal.tenantId, bindingId);
    if (
      !binding ||
      (caller.pathCustomerId !== undefined && binding.customerId !== caller.pathCustomerId)
    ) {
      throw notFound('Binding');
    }
    assertCustomerAccess(caller.principal, binding.customerId);
    if (binding.status === 'revoked') throw conflict('Binding is revoked');
    return binding;
  }

  private normalise(channel: BindingChannel, raw: string, field: AddressField): string {
    const result = normaliseAddress(channel, raw);
    if (!result.ok) throw invalidField(field, `${ADDRESS_LABELS[field]} ${result.reason}`);
    return result.address;
  }
}
