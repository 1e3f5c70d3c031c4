import { IncomingHttpHeaders, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What the receiver does with a request: answer this status, after this long. */
export interface Answer {
  status?: number;
  delayMs?: number;
}

/**
 * A webhook receiver on loopback that records every request and answers as `answer` says
 * (200 at once by default). `waitFor` resolves once `n` requests have arrived.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: (r: Received, index: number) => Answer = () => ({});
  private waiters: { n: number; done: () => void }[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = { headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
        const index = receiver.received.push(r) - 1;
        receiver.waiters = receiver.waiters.filter((w) => {
          if (receiver.received.length < w.n) return true;
          w.done();
          return false;
        });
        const { status = 200, delayMs = 0 } = receiver.answer(r, index);
        const reply = () => {
          if (!res.destroyed) res.writeHead(status).end('ok');
        };
        if (delayMs > 0) setTimeout(reply, delayMs).unref();
        else reply();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** The received events' bodies, parsed. */
  events(): { id: string; type: string; [k: string]: unknown }[] {
    return this.received.map((r) => JSON.parse(r.body));
  }

  waitFor(n: number, timeoutMs = 15_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.received.length} of ${n} requests arrived`)),
        timeoutMs,
      );
      this.waiters.push({
        n,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
