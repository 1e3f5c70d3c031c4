import { jsonBytes } from '../../src/common/json-limits';
import { ResumedDetail } from '../../src/workflows/workflow.entity';
import {
  HISTORY_CAP,
  NewHistoryEntry,
  assertHistoryRoom,
  entryBytes,
  entryParams,
  entrySql,
} from '../../src/workflows/workflow-history';

const entry: NewHistoryEntry = {
  action: 'escalated',
  actionDetail: { channel: 'sms' },
  actor: 'system',
  fromStatus: 'active',
  toStatus: 'paused',
  fromStage: null,
  toStage: 's1',
};

describe('the history entry as stored', () => {
  it('has the wire names of WorkflowHistoryEntry as its keys, `at` stamped by the database', () => {
    const sql = entrySql({
      action: 'A',
      actionDetail: 'D',
      actor: 'R',
      fromStatus: 'FS',
      toStatus: 'TS',
      fromStage: 'FG',
      toStage: 'TG',
    });
    expect(sql).toBe(
      `jsonb_build_array(jsonb_build_object('at', to_char(now() AT TIME ZONE 'UTC', ` +
        `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'action', A, 'action_detail', D, 'actor', R, ` +
        `'from_status', FS, 'to_status', TS, 'from_stage', FG, 'to_stage', TG))`,
    );
  });

  it('passes its values as typed parameters, a detail the API writes under its wire names', () => {
    const params: unknown[] = ['tenant'];
    const resumed = Object.assign(new ResumedDetail(), { resumedFromStep: 'w', resumeData: null });
    const values = entryParams({ ...entry, actionDetail: resumed }, params);
    expect(values).toEqual({
      action: '$2::text',
      actionDetail: '$3::jsonb',
      actor: '$4::text',
      fromStatus: '$5::text',
      toStatus: '$6::text',
      fromStage: '$7::text',
      toStage: '$8::text',
    });
    expect(params).toEqual([
      'tenant',
      'escalated',
      '{"resumed_from_step":"w","resume_data":null}',
      'system',
      'active',
      'paused',
      null,
      's1',
    ]);
  });

  it('weighs as its stored text, with its stamp and the separator before it', () => {
    const stored = {
      at: '2030-01-01T00:00:00.000Z',
      action: 'escalated',
      action_detail: { channel: 'sms' },
      actor: 'system',
      from_status: 'active',
      to_status: 'paused',
      from_stage: null,
      to_stage: 's1',
    };
    expect(entryBytes(entry)).toBe(2 + jsonBytes(stored));
  });
});

describe('the history bounds', () => {
  const full = { entries: HISTORY_CAP.entries - 1, bytes: 0 };

  it('keeps the last entry for the change that closes the workflow', () => {
    expect(() => assertHistoryRoom(full, entry)).toThrow(/History full/);
    expect(() => assertHistoryRoom(full, { ...entry, toStatus: 'completed' })).not.toThrow();
    expect(() =>
      assertHistoryRoom(
        { entries: HISTORY_CAP.entries, bytes: 0 },
        { ...entry, toStatus: 'failed' },
      ),
    ).toThrow(/History full/);
  });

  it('keeps a few KiB for it too', () => {
    const bytes = HISTORY_CAP.bytes - 4 * 1024 - entryBytes(entry);
    expect(() => assertHistoryRoom({ entries: 0, bytes }, entry)).not.toThrow();
    expect(() => assertHistoryRoom({ entries: 0, bytes: bytes + 1 }, entry)).toThrow(
      /History full/,
    );
    expect(() =>
      assertHistoryRoom({ entries: 0, bytes: bytes + 1 }, { ...entry, toStatus: 'cancelled' }),
    ).not.toThrow();
  });
});
