import { QueryFailedError } from 'typeorm';
import { databaseUnavailable, rowBusy } from '../../src/common/errors';
import { DatabaseOutage, outageOf } from '../../src/database/database-outage';

interface Line {
  level: 'warn';
  fields: Record<string, unknown>;
  message: string;
}

function recorder() {
  const lines: Line[] = [];
  return {
    lines,
    warn: (fields: object, message: string) =>
      lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
  };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const shutDown = () =>
  new QueryFailedError('SELECT 1', [], {
    code: '57P01',
    message: 'terminating connection due to administrator command',
  } as unknown as Error);

describe('DatabaseOutage', () => {
  it('logs one warning, without a stack, however many polls fail, and one line when back', () => {
    const log = recorder();
    let now = 1_000;
    const outage = new DatabaseOutage(log, () => now);
    for (let poll = 0; poll < 50; poll++) {
      for (const job of ['OutboxRelay', 'WorkflowSweeper', 'EventSequencer']) {
        const error = [refused(), shutDown(), databaseUnavailable()][poll % 3];
        expect(outage.failed(job, error)).toBe(true);
      }
      now += 1_000;
    }
    expect(outage.down).toBe(true);
    const begun = outage.begin();
    now += 10;
    outage.reached('WorkflowSweeper', begun);
    outage.reached('OutboxRelay', begun);
    expect(outage.down).toBe(false);
    expect(log.lines).toEqual([
      {
        level: 'warn',
        fields: { job: 'OutboxRelay', error: 'connect ECONNREFUSED 127.0.0.1:5432' },
        message: expect.stringMatching(/^database unreachable/),
      },
      {
        level: 'warn',
        fields: { job: 'WorkflowSweeper', downMs: 50_010 },
        message: 'database reachable again',
      },
    ]);
    expect(JSON.stringify(log.lines)).not.toMatch(/stack|\n\s+at /);
  });

  it('logs each outage: a second one after a recovery is news again', () => {
    const log = recorder();
    let now = 0;
    const outage = new DatabaseOutage(log, () => ++now);
    outage.failed('A', refused());
    outage.reached('A', outage.begin());
    outage.failed('B', shutDown());
    outage.failed('B', shutDown());
    expect(log.lines.map((l) => [l.level, l.fields.job])).toEqual([
      ['warn', 'A'],
      ['warn', 'A'],
      ['warn', 'B'],
    ]);
    expect(log.lines[2].fields.error).toBe(
      '57P01: terminating connection due to administrator command',
    );
  });

  it('is not over while jobs still fail: work begun before the latest failure proves nothing', () => {
    const log = recorder();
    let now = 0;
    const outage = new DatabaseOutage(log, () => ++now);
    const early = outage.begin(); // on a connection opened before the server began to stop
    outage.failed('A', shutDown());
    const during = outage.begin();
    outage.failed('B', refused());
    outage.reached('A', early);
    outage.reached('C', during);
    expect(outage.down).toBe(true);
    outage.reached('B', outage.begin());
    expect(outage.down).toBe(false);
    expect(log.lines.map((l) => [l.fields.job, l.message])).toEqual([
      ['A', expect.stringMatching(/^database unreachable/)],
      ['B', 'database reachable again'],
    ]);
  });

  it('leaves other errors to the job, and a success without an outage says nothing', () => {
    const log = recorder();
    const outage = new DatabaseOutage(log);
    outage.reached('A', outage.begin());
    expect(outage.failed('A', new Error('a bug'))).toBe(false);
    expect(outage.failed('A', rowBusy())).toBe(false);
    expect(outage.failed('A', 'text')).toBe(false);
    expect(outage.down).toBe(false);
    expect(log.lines).toEqual([]);
  });

  it('is shared by the jobs of one app, and not across apps', () => {
    const dbOfOneApp = {};
    const dbOfAnother = {};
    expect(outageOf(dbOfOneApp)).toBe(outageOf(dbOfOneApp));
    expect(outageOf(dbOfOneApp)).not.toBe(outageOf(dbOfAnother));
  });
});
