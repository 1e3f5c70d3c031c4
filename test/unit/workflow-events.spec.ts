import { Workflow } from '../../src/workflows/workflow.entity';
import {
  WorkflowStageChanged,
  WorkflowStatusChanged,
  changeEvents,
} from '../../src/workflows/workflow-events';

const after = (fields: Partial<Workflow>) =>
  Object.assign(new Workflow(), {
    id: 'w',
    instanceId: 'i',
    customerId: 'c',
    stage: 's1',
    status: 'active',
    ...fields,
  });

describe('changeEvents', () => {
  it('raises nothing when neither stage nor status changed', () => {
    expect(changeEvents({ stage: 's1', status: 'active' }, after({}))).toEqual([]);
  });

  it('raises stage_changed before status_changed when both changed, with the workflow', () => {
    const w = after({ stage: null, status: 'completed' });
    const events = changeEvents({ stage: 's1', status: 'paused' }, w);
    expect(events).toEqual([
      {
        type: 'workflow.stage_changed',
        instanceId: 'i',
        customerId: 'c',
        data: Object.assign(new WorkflowStageChanged(), {
          workflow: w,
          fromStage: 's1',
          toStage: null,
        }),
      },
      {
        type: 'workflow.status_changed',
        instanceId: 'i',
        customerId: 'c',
        data: Object.assign(new WorkflowStatusChanged(), {
          workflow: w,
          fromStatus: 'paused',
          toStatus: 'completed',
        }),
      },
    ]);
  });

  it('tells a stage that was none from one that is set', () => {
    const events = changeEvents({ stage: null, status: 'active' }, after({ stage: 's1' }));
    expect(events.map((e) => e.type)).toEqual(['workflow.stage_changed']);
  });
});
