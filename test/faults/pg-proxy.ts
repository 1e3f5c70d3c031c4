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

/**
 * Walks the whole backend messages at the start of `data` (type byte, then a length that counts
 * itself): how many bytes they take, and where the first ReadyForQuery ('Z') among them ends.
 */
function scan(data: Buffer): { whole: number; ready: number } {
  let at = 0;
  while (at + 5 <= data.length) {
    const end = at + 1 + data.readInt32BE(at + 1);
    if (end > data.length) break;
    if (data[at] === 0x5a) return { whole: end, ready: end };
    at = end;
  }
  return { whole: at, ready: -1 };
}

/**
 * A TCP proxy in front of a real PostgreSQL that stages, on demand, the moments of an outage
 * that are hard to hit by chance: the server's FATAL arriving in the same read as the
 * ReadyForQuery that completes a new connection (after the pool has handed the client out and
 * before its borrower listens for errors), and a connection lost while COMMIT is on its way.
 */
export class PgFaultProxy {
  /** How many connections were killed that way. */
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
    client.on('data', (chunk: Buffer) => {
      // Simple-protocol query text; the startup message (user, database) never contains it.
      if (this.cutCommits > 0 && chunk.includes('COMMIT')) {
        this.cutCommits--;
        this.commitsCut++;
        server.destroy();
        return void client.destroy();
      }
      server.write(chunk);
    });

    let doomed = this.armed > 0;
    if (doomed) this.armed--;
    let pending = Buffer.alloc(0);
    server.on('data', (chunk: Buffer) => {
      if (!doomed) return void client.write(chunk);
      // Authentication goes through untouched; only the startup's end is doctored.
      pending = Buffer.concat([pending, chunk]);
      const { whole, ready } = scan(pending);
      if (ready < 0) {
        client.write(pending.subarray(0, whole));
        pending = pending.subarray(whole);
        return;
      }
      doomed = false;
      this.injected++;
      // One write: the client reads both in one chunk, as it would from a server going down.
      client.end(Buffer.concat([pending.subarray(0, ready), adminShutdown()]), () =>
        server.destroy(),
      );
    });
  }
}
