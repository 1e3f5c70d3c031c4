import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';

/** An ErrorResponse as PostgreSQL sends it to each session when a fast shutdown begins. */
function adminShutdown(): Buffer {
  const fields = [
    'SFATAL',
    'VFATAL',
    'C57P01',
    'Mterminating connection due to administrator command',
  ];
  const body = Buffer.concat([...fields.map((f) => Buffer.from(`${f}\0`)), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

interface Message {
  /** The type byte as a character; '' for the untyped startup message. */
  type: string;
  bytes: Buffer;
}

/**
 * Splits one direction of a connection into protocol messages: a type byte, then a length that
 * counts itself; the client's first message (startup) has no type byte. Assumes no SSL request,
 * whose one-byte answer has no length (the pools here connect without SSL).
 */
class Splitter {
  private pending = Buffer.alloc(0);
  constructor(private untypedFirst: boolean) {}

  push(chunk: Buffer): Message[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Message[] = [];
    for (;;) {
      const head = this.untypedFirst ? 0 : 1;
      if (this.pending.length < head + 4) break;
      const end = head + this.pending.readInt32BE(head);
      if (this.pending.length < end) break;
      const bytes = this.pending.subarray(0, end);
      out.push({ type: head ? String.fromCharCode(bytes[0]) : '', bytes });
      this.pending = this.pending.subarray(end);
      this.untypedFirst = false;
    }
    return out;
  }
}

/** True for a simple-protocol query that ends a transaction with COMMIT: on its own, or as the
 * last of several statements (a credential lookup sends BEGIN, its read and COMMIT as one). */
const isCommit = (m: Message) =>
  m.type === 'Q' &&
  /(^|;)\s*COMMIT$/.test(m.bytes.subarray(5).toString().replace(/\0$/, '').trim());

/**
 * A TCP proxy in front of a real PostgreSQL that stages, on demand, the moments of an outage
 * that are hard to hit by chance: the server's FATAL arriving in the same read as the
 * ReadyForQuery that completes a new connection (after the pool has handed the client out and
 * before its borrower listens for errors), and a connection lost while COMMIT is on its way.
 */
export class PgFaultProxy {
  /** How many connections were killed as their startup completed. */
  injected = 0;
  /** How many connections were cut as they sent COMMIT. */
  commitsCut = 0;
  private armed = 0;
  private cutCommits = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly upstream: URL) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(upstreamUrl: string): Promise<PgFaultProxy> {
    const proxy = new PgFaultProxy(new URL(upstreamUrl));
    await new Promise<void>((done) => proxy.server.listen(0, '127.0.0.1', done));
    return proxy;
  }

  /** `databaseUrl` with its host and port replaced by the proxy's. */
  route(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return url.toString();
  }

  /** Connections open through the proxy. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  /** The next `count` new connections get the FATAL right behind their ReadyForQuery. */
  killNextConnections(count: number): void {
    this.armed = count;
  }

  /**
   * The next `count` COMMITs are never delivered: their connection is cut instead, so the server
   * rolls back while the client cannot tell whether its commit happened.
   */
  cutNextCommits(count: number): void {
    this.cutCommits = count;
  }

  /** Closes every proxied connection, as a server restart would; pools must open new ones. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private accept(client: Socket): void {
    const server = connect(Number(this.upstream.port), this.upstream.hostname);
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());

    const fromClient = new Splitter(true);
    client.on('data', (chunk: Buffer) => {
      const messages = fromClient.push(chunk);
      if (this.cutCommits > 0 && messages.some(isCommit)) {
        this.cutCommits--;
        this.commitsCut++;
        server.destroy();
        return void client.destroy();
      }
      server.write(Buffer.concat(messages.map((m) => m.bytes)));
    });

    let doomed = this.armed > 0;
    if (doomed) this.armed--;
    const fromServer = new Splitter(false);
    server.on('data', (chunk: Buffer) => {
      if (!doomed) return void client.write(chunk);
      // Authentication goes through untouched; only the startup's end is doctored.
      const messages = fromServer.push(chunk);
      const ready = messages.findIndex((m) => m.type === 'Z');
      if (ready < 0) return void client.write(Buffer.concat(messages.map((m) => m.bytes)));
      doomed = false;
      this.injected++;
      // One write: the client reads both in one chunk, as it would from a server going down.
      const upToReady = messages.slice(0, ready + 1).map((m) => m.bytes);
      client.end(Buffer.concat([...upToReady, adminShutdown()]), () => server.destroy());
    });
  }
}
