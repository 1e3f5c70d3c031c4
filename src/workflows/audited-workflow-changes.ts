import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { changesOf } from '../audit/changes';
import { Principal } from '../auth/principal';
import { SuspendWorkflowDto, WorkflowActionResult } from './dto/workflows.dto';
import { WorkflowChangesService } from './workflow-changes.service';
import { WorkflowsRepository } from './workflows.repository';

/**
 * The dashboard's changes to a workflow, audited. The runtime makes the same changes through
 * WorkflowChangesService directly: its writes are the workflow's history and events, and it
 * names its own history `actor`, which the audit log does not second-guess. The entry names the
 * status and step, not the payloads, which are the runtime's documents and in the history.
 */
@Injectable()
export class AuditedWorkflowChanges {
  constructor(
    private readonly repo: WorkflowsRepository,
    private readonly changes: WorkflowChangesService,
    private readonly audit: AuditService,
  ) {}

  suspend(principal: Principal, id: string, dto: SuspendWorkflowDto) {
    return this.audited(principal, id, 'suspended', dto.step, () =>
      this.changes.suspend({ principal }, id, dto),
    );
  }

  resume(principal: Principal, id: string, resumeData?: Record<string, unknown>) {
    return this.audited(principal, id, 'resumed', null, () =>
      this.changes.resume({ principal }, id, resumeData),
    );
  }

  abort(principal: Principal, id: string) {
    return this.audited(principal, id, 'aborted', null, () =>
      this.changes.abort({ principal }, id),
    );
  }

  /**
   * Locks the row first, as the change itself then does again: what the entry shows as before
   * is the row the change started from. A missing or forbidden workflow is refused by the change.
   */
  private async audited(
    principal: Principal,
    id: string,
    action: 'suspended' | 'resumed' | 'aborted',
    step: string | null,
    change: () => Promise<WorkflowActionResult>,
  ): Promise<WorkflowActionResult> {
    const locked = await this.repo.lock(principal.tenantId, id);
    const done = await change();
    const { status, suspendedStep } = locked!.workflow;
    await this.audit.record({
      action: `workflow.${action}`,
      targetType: 'workflow',
      targetId: id,
      changes: changesOf({ status, suspendedStep }, { status: done.status, suspendedStep: step }, [
        'status',
        'suspendedStep',
      ]),
    });
    return done;
  }
}
