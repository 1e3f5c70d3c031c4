/**
 * The tenants suspended, as read at most `maxAgeMs` ago: the platform's background jobs leave
 * them alone (a suspended tenant's data does not change until it is active again), and a
 * second of lag on a suspension costs one read a second however many jobs ask.
 */
export class SuspendedTenants {
  private last?: { at: number; ids: Promise<ReadonlySet<string>> };

  constructor(
    private readonly read: () => Promise<string[]>,
    private readonly maxAgeMs: number,
  ) {}

  get(): Promise<ReadonlySet<string>> {
    const now = Date.now();
    if (!this.last || now - this.last.at > this.maxAgeMs) {
      const ids = this.read().then((list) => new Set(list));
      const read = { at: now, ids };
      this.last = read;
      ids.catch(() => {
        if (this.last === read) this.last = undefined; // the next caller reads again
      });
    }
    return this.last.ids;
  }

  /** After a status change in this process: the next caller reads the list afresh. */
  forget(): void {
    this.last = undefined;
  }
}
