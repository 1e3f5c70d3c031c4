import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { prepared, unnamed } from '../database/prepared';
import { TenantDb } from '../database/tenant-db';
import { LIST_DEFAULTS } from './dto/workflows.dto';
import { Workflow } from './workflow.entity';
import {
  BATCH_BYTES,
  BATCH_PAUSE_MS,
  columns,
  COLUMNS,
  countable,
  FILTERED,
  filterSql,
  LISTED_ID,
  listedWorkflow,
  PAGE_BUDGET_BYTES,
  PageTooLarge,
  SMALL_PAGE_BYTES,
  STORED_COLUMNS,
  toWorkflow,
  WorkflowFilter,
} from './workflow-sql';

/** Page sizes written into a list's statement rather than passed (see `bounded`). */
const WRITTEN_LIMITS: ReadonlySet<number> = new Set([
  LIST_DEFAULTS.perPage,
  LIST_DEFAULTS.suspendedLimit,
  10,
  50,
]);

/**
 * The everyday lists, kept prepared (see `bounded`): the dashboard's (no filter, or a customer
 * admin's customer) and the runtime's (its instance, and perhaps a customer).
 */
const everyday = (filter: WorkflowFilter) =>
  filter.workflowType === undefined &&
  filter.status === undefined &&
  filter.reference === undefined &&
  filter.dueBefore === undefined;

/** The workflow lists: pages bounded by the weight of their documents, and their totals. */
@Injectable()
export class WorkflowListsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /**
   * A page, newest first, and the list's total, in one prepared statement. Read by hand rather
   * than through `find`: this is the API's busiest read, and TypeORM's query building and
   * hydration cost it about 0.4 ms of CPU a request, an eighth of the whole (BENCHMARKS.md). The
   * total rides along with the page: a round trip of its own cost a write to the socket, a
   * parse of its answer and, on the database's side, a statement's overhead each request.
   */
  async page(
    tenantId: string,
    filter: WorkflowFilter,
    page: number,
    perPage: number,
  ): Promise<[Workflow[], number] | PageTooLarge> {
    const { sql, params } = filterSql(tenantId, filter, FILTERED);
    // A countable filter has no reference nor time, so its conditions are the same under
    // COUNTED as under FILTERED, parameters included.
    const total = countable(filter)
      ? `SELECT COALESCE(sum(n), 0) AS total FROM workflow_counts WHERE ${sql}`
      : `SELECT count(*) AS total FROM workflows WHERE ${sql}`;
    const offset = (page - 1) * perPage;
    const admission = this.db.admission;
    const read = await admission.walk(tenantId, offset, () =>
      this.bounded(sql, params, perPage, offset, everyday(filter), total),
    );
    const counted = Number(read.total);
    admission.chargeWalk(tenantId, Math.min(offset, counted) * read.walks);
    if (!countable(filter)) admission.chargeCount(tenantId, counted);
    return read.page instanceof PageTooLarge ? read.page : [read.page, counted];
  }

  suspended(
    tenantId: string,
    customerId: string | null,
    limit: number,
  ): Promise<Workflow[] | PageTooLarge> {
    const params: unknown[] = [tenantId];
    const ofCustomer = customerId ? ` AND customer_id = $${params.push(customerId)}` : '';
    const where = `tenant_id = $1 AND status = 'suspended'${ofCustomer}`;
    return this.bounded(where, params, limit, 0, true).then((read) => read.page);
  }

  /**
   * Newest first, at most `limit` after `offset`, in one statement: the page's sizes (kept by
   * PostgreSQL on every write) first, the rows' documents only when they weigh at most
   * SMALL_PAGE_BYTES. A heavier page waits for room in the process's response memory and is read
   * again; one over PAGE_BUDGET_BYTES is refused without reading a document. `total`, a
   * statement over the same parameters answering one `total`, is read in the same statement.
   * The text depends on which filters are set and, for status and type only (a short fixed
   * list each, see filterSql), on their values. `walks` says how many times the
   * rows before the page were read (a heavy page reads them again).
   *
   * The page is read once: its materialised rows hold large documents as TOAST pointers, which
   * are followed only for the rows the final SELECT emits (a refused page of 20 documents of
   * 5 MB reads one buffer, measured with EXPLAIN BUFFERS), so weighing first needs no second
   * lookup of each row by id.
   *
   * Only an `everyday` list is prepared, and its first page of a common size has that size
   * written into the text and no OFFSET, so that the statement settles on a generic plan:
   * planned without a LIMIT's value, PostgreSQL reckons on a tenth of the tenant's rows, prices
   * the generic plan far above a custom one and plans the statement again on every run, 0.25 ms
   * of the database's CPU a list, more than executing it (EXPLAIN ANALYZE; perf put planning at
   * 40% of the database's samples under scenario 1). A list filtered any other way is sent
   * unnamed, as its plans were custom ones anyway: its texts multiply (status × type × reference
   * × time), and a prepared list statement holds 100–180 KiB of its connection's memory
   * (pg_backend_memory_contexts), so kept, a tenant cycling through them would grow every
   * pooled connection by hundreds of MiB.
   */
  private async bounded(
    where: string,
    params: unknown[],
    limit: number,
    offset: number,
    kept: boolean,
    total = 'SELECT NULL AS total',
  ): Promise<{ page: Workflow[] | PageTooLarge; total: unknown; walks: number }> {
    const values = [...params];
    const written = kept && offset === 0 && WRITTEN_LIMITS.has(limit);
    const limitSql = written ? String(limit) : `$${values.push(limit)}`;
    const offsetSql = written ? '' : ` OFFSET $${values.push(offset)}`;
    const rows = await this.m.query<unknown[][]>(
      (kept ? prepared : unnamed)(
        `WITH page AS MATERIALIZED (
           SELECT ${STORED_COLUMNS} FROM workflows WHERE ${where}
            ORDER BY created_at DESC, id DESC LIMIT ${limitSql}${offsetSql}),
         size AS (SELECT coalesce(sum(document_bytes), 0)::bigint AS page_bytes FROM page),
         total AS (${total})
         SELECT size.page_bytes, total.total, ${columns('w.')}
           FROM size CROSS JOIN total
           LEFT JOIN page w ON size.page_bytes <= ${SMALL_PAGE_BYTES}
          ORDER BY w.created_at DESC, w.id DESC`,
        true,
      ),
      values,
    );
    // Each row: page_bytes, total, then the workflow's columns (see listedWorkflow).
    const bytes = Number(rows[0]?.[0] ?? 0);
    const counted = rows[0]?.[1];
    if (bytes <= SMALL_PAGE_BYTES) {
      const page: Workflow[] = [];
      for (const row of rows) if (row[LISTED_ID] !== null) page.push(listedWorkflow(this.m, row));
      return { page, total: counted, walks: 1 };
    }
    if (bytes > PAGE_BUDGET_BYTES) {
      return { page: new PageTooLarge(bytes), total: counted, walks: 1 };
    }
    await this.db.holdForResponse(bytes);
    const page = await this.inBatches(where, params, limit, offset);
    return { page, total: counted, walks: 2 };
  }

  /**
   * A heavy page read a few MiB at a time, with a pause between: turning megabytes of jsonb
   * into text is a burst of the database's CPU and the API's, and spread out it leaves room
   * for every other tenant's requests meanwhile. The same work, at a lower peak.
   */
  private async inBatches(
    where: string,
    params: unknown[],
    limit: number,
    offset: number,
  ): Promise<Workflow[] | PageTooLarge> {
    const page = await this.m.query<{ id: string; document_bytes: number }[]>(
      `SELECT id, document_bytes FROM workflows WHERE ${where}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    const total = page.reduce((n, row) => n + Number(row.document_bytes), 0);
    if (total > PAGE_BUDGET_BYTES) return new PageTooLarge(total); // grew since it was weighed
    const byId = new Map<string, Workflow>();
    let batch: string[] = [];
    let batchBytes = 0;
    const flush = async () => {
      const rows = await this.m.query<Record<string, unknown>[]>(
        `SELECT ${COLUMNS} FROM workflows WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
        [params[0], batch],
      );
      for (const row of rows) byId.set(row.id as string, toWorkflow(this.m, row));
      batch = [];
      batchBytes = 0;
      await new Promise((resolve) => setTimeout(resolve, BATCH_PAUSE_MS));
    };
    for (const { id, document_bytes } of page) {
      if (batch.length > 0 && batchBytes + Number(document_bytes) > BATCH_BYTES) await flush();
      batch.push(id);
      batchBytes += Number(document_bytes);
    }
    if (batch.length > 0) await flush();
    return page.flatMap(({ id }) => byId.get(id) ?? []);
  }

  /**
   * Folds the tenant's counter rows into one per key, touching only keys with more than one
   * row (or a zero sum), so an idle tenant costs one index read. Rows appended meanwhile are
   * not in the statement's snapshot and stay; the advisory lock keeps replicas from folding
   * the same tenant at once.
   */
  async compactCounts(tenantId: string): Promise<number> {
    const [{ locked }] = await this.m.query<{ locked: boolean }[]>(
      `SELECT pg_try_advisory_xact_lock(hashtext('workflow_counts'), hashtext($1)) AS locked`,
      [tenantId],
    );
    if (!locked) return 0;
    const [{ folded }] = await this.m.query<{ folded: string }[]>(
      `WITH loose AS (
         SELECT instance_id, customer_id, workflow_type, status FROM workflow_counts
          WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4 HAVING count(*) > 1 OR sum(n) = 0),
       gone AS (
         DELETE FROM workflow_counts c USING loose l
          WHERE c.tenant_id = $1 AND c.instance_id = l.instance_id AND c.customer_id = l.customer_id
            AND c.workflow_type = l.workflow_type AND c.status = l.status
         RETURNING c.*),
       kept AS (
         INSERT INTO workflow_counts
         SELECT tenant_id, instance_id, customer_id, workflow_type, status, sum(n) FROM gone
          GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
         RETURNING 1)
       SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept) AS folded`,
      [tenantId],
    );
    return Number(folded);
  }
}
