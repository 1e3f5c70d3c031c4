import { DomainError } from '../common/errors';

interface Waiter {
  bytes: number;
  admit(): void;
  timer: NodeJS.Timeout;
}

/**
 * How many bytes of large documents this process may be sending at once. A large page costs
 * about twice its size in heap while it is read and spliced into its response, so the process's
 * heap bounds how many may be under way: past this budget a large read waits its turn (in
 * arrival order) rather than pushing the process past its heap limit. Small reads never come here.
 */
export class ResponseMemory {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly capacity: number,
    private readonly waitMs: number,
  ) {}

  /** Resolves with the release once `bytes` fit; call the release exactly once. */
  async reserve(bytes: number): Promise<() => void> {
    const size = Math.min(bytes, this.capacity); // one larger than all still runs, alone
    if (this.queue.length > 0 || this.used + size > this.capacity) {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          bytes: size,
          admit: resolve,
          timer: setTimeout(() => {
            this.queue.splice(this.queue.indexOf(waiter), 1);
            reject(new DomainError('unavailable', 'Busy sending large responses; retry'));
          }, this.waitMs),
        };
        this.queue.push(waiter);
      });
    } else {
      this.used += size;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= size;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    while (this.queue.length > 0 && this.used + this.queue[0].bytes <= this.capacity) {
      const next = this.queue.shift()!;
      clearTimeout(next.timer);
      this.used += next.bytes;
      next.admit();
    }
  }

  get inUse(): number {
    return this.used;
  }
}
