import { Injectable } from '@nestjs/common';
import { Principal } from '../auth/principal';
import { WorkerBindingsService } from '../worker-bindings/worker-bindings.service';
import { DirectoryService } from '../directory/directory.service';

/**
 * A person's erasure (the right to be forgotten), across the domains that hold their data, in
 * the request's one transaction: all of it happens or none. The row and its id stay, so the
 * histories that name the person (workflows, approvals, events) keep a valid reference.
 *
 * Lives beside the directory rather than in it: the worker bindings depend on the directory,
 * so the directory cannot depend on them.
 */
@Injectable()
export class PersonErasureService {
  constructor(
    private readonly directory: DirectoryService,
    private readonly bindings: WorkerBindingsService,
  ) {}

  /** 404 for a person already erased: to every route, an erased person no longer exists. */
  async erase(principal: Principal, customerId: string, personId: string): Promise<void> {
    const person = await this.directory.lockPerson(principal.tenantId, customerId, personId);
    await this.bindings.eraseForPerson(
      { principal, instanceId: null, pathCustomerId: customerId },
      customerId,
      personId,
    );
    await this.directory.erasePerson(person);
  }
}
