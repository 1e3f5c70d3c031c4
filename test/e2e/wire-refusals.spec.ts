import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { connect } from 'node:net';
import { ArgumentsHost, Logger } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { hashKey, issueKey } from '../../src/auth/keys';
import { WireExceptionFilter } from '../../src/common/exception.filter';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession, token } from '../helpers/factories';

const REQUEST_TIMEOUT_MS = 1000;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Everything the server sends on one connection until it closes it (or `waitMs` passes). */
function exchange(
  port: number,
  parts: string[],
  { pauseMs = 0, waitMs = 5000 } = {},
): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const socket = connect(port, '127.0.0.1', () => {
      parts.forEach((part, i) => setTimeout(() => socket.write(part), i * pauseMs));
    });
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    setTimeout(() => finish(false), waitMs);
  });
}

function parse(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

function expectWire(answer: RawAnswer, status: number): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json\b/);
  const body = JSON.parse(answer.body) as unknown;
  expect(body).toEqual({ detail: expect.any(String) });
}

/** Log lines written while `work` runs (pino writes them synchronously to fd 1). */
async function logged(work: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const write = fs.writeSync.bind(fs);
  const spy = jest.spyOn(fs, 'writeSync').mockImplementation((fd: number, data: unknown) => {
    const text = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString();
    if (fd === 1 && text.startsWith('{"level"')) {
      lines.push(...text.split('\n').filter(Boolean));
      return Buffer.byteLength(text);
    }
    return (write as (...args: unknown[]) => number)(fd, data);
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

/** Enough of a Fastify reply for the exception filter to answer on. */
function replyStub() {
  const reply = {
    code: 0,
    header: () => reply,
    status: (code: number) => ((reply.code = code), reply),
    send: () => reply,
  };
  return reply;
}

/** Every form a 32-byte hash takes in a JSON log line: hex, base64, a Buffer's byte list. */
const hashForms = (hash: Buffer) => [
  hash.toString('hex'),
  hash.toString('base64'),
  `[${[...hash].join(',')}]`,
];

describe('refusals in the wire format', () => {
  let t: TestApp;
  let port: number;
  let a: TenantSession;
  beforeAll(async () => {
    t = await startTestApp({ REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), LOG_LEVEL: 'error' });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as { port: number }).port;
    a = await TenantSession.create(t);
  });
  afterAll(() => t.close());

  describe("Node's and Fastify's own answers", () => {
    it('answers headers past 16 KiB with 431', async () => {
      const big = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`;
      expectWire(parse((await exchange(port, [big])).text), 431);
    });

    it('answers a malformed request line, or a smuggling-shaped request, with 400', async () => {
      expectWire(parse((await exchange(port, ['NOT AN HTTP REQUEST LINE\r\n\r\n'])).text), 400);
      const ambiguous =
        'POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
      expectWire(parse((await exchange(port, [ambiguous])).text), 400);
    });

    it('answers an HTTP/1.1 request without Host with 400', async () => {
      expectWire(parse((await exchange(port, ['GET /healthz HTTP/1.1\r\n\r\n'])).text), 400);
    });

    it('answers an Expect it cannot meet with 417', async () => {
      const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n';
      expectWire(parse((await exchange(port, [request])).text), 417);
    });

    it('answers a body that stalls past the request timeout with 408 and closes', async () => {
      const headers =
        'POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\n\r\n';
      const result = await exchange(port, [headers, '{"na'], { pauseMs: 50 });
      expect(result.closed).toBe(true);
      expect(result.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(result.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
      expectWire(parse(result.text), 408);
    });

    it('answers unknown routes 404, large bodies 413 and other media types 415', async () => {
      const unknown = await t.http().delete('/healthz');
      const large = await t
        .http()
        .post('/v1/customers')
        .set(a.admin)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 1) }));
      const text = await t
        .http()
        .post('/v1/customers')
        .set(a.admin)
        .type('application/xml')
        .send('<a/>');
      for (const [res, status] of [
        [unknown, 404],
        [large, 413],
        [text, 415],
      ] as const) {
        expect(res.status).toBe(status);
        expect(res.headers['content-type']).toMatch(/^application\/json\b/);
        expect(res.body).toEqual({ detail: expect.any(String) });
      }
    });

    it('answers a request that arrives while the server drains with 503', async () => {
      const replica = await createApp(t.config);
      await replica.listen(0, '127.0.0.1');
      const server = replica.getHttpServer();
      const replicaPort = (server.address() as { port: number }).port;
      // Half a request keeps the connection busy, so closing does not drop it as idle.
      const answer = new Promise<string>((resolve) => {
        let text = '';
        const socket = connect(replicaPort, '127.0.0.1', () => {
          socket.write('GET /healthz HTTP/1.1\r\n');
          const closing = new Promise((r) => setTimeout(r, 50)).then(() => replica.close());
          const poll = setInterval(() => {
            if (server.listening) return;
            clearInterval(poll);
            socket.write('Host: x\r\n\r\n');
          }, 5);
          socket.on('data', (chunk) => (text += chunk.toString()));
          socket.on('close', () => void closing.then(() => resolve(text)));
        });
      });
      const parsed = parse(await answer);
      expectWire(parsed, 503);
      expect(parsed.headers.connection).toBe('close');
    });
  });

  describe('Cache-Control: no-store', () => {
    it('is sent with every new key and not with a plain read', async () => {
      const apiKey = await t
        .http()
        .post('/v1/api-keys')
        .set(a.admin)
        .send({ name: 'k', role: 'member' });
      expect(apiKey.status).toBe(201);
      expect(apiKey.headers['cache-control']).toBe('no-store');

      const instance = await a.instance();
      const proxyKey = await t.http().post(`/v1/instances/${instance}/proxy-keys`).set(a.admin);
      expect(proxyKey.status).toBe(201);
      expect(proxyKey.headers['cache-control']).toBe('no-store');

      const list = await t.http().get('/v1/api-keys').set(a.admin).expect(200);
      expect(list.headers['cache-control']).toBeUndefined();
    });
  });

  describe('credentials of a tenant that does not exist', () => {
    const expectUnknown = (res: {
      status: number;
      headers: Record<string, string>;
      body: unknown;
    }) => {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toEqual({ detail: expect.any(String) });
    };

    it('answers 401 to a signed JWT, a tenant API key and a proxy key, and logs no SQL', async () => {
      const missing = randomUUID();
      const jwt = { Authorization: `Bearer ${token(missing, 'admin')}` };
      const apiKey = issueKey('api', missing).key;
      const proxyKey = issueKey('proxy', missing).key;
      const lines = await logged(async () => {
        expectUnknown(await t.http().get('/v1/customers').set(jwt));
        expectUnknown(
          await t.http().post('/v1/api-keys').set(jwt).send({ name: 'k', role: 'admin' }),
        );
        expectUnknown(await t.http().post('/v1/customers').set(jwt).send({ name: 'c' }));
        expectUnknown(await t.http().get('/v1/customers').set('X-Api-Key', apiKey));
        const instancePath = `/internal/v1/instances/${randomUUID()}`;
        expectUnknown(await t.http().get(instancePath).set('Authorization', `Bearer ${proxyKey}`));
      });
      const text = lines.join('\n');
      expect(text).not.toMatch(/parameters|INSERT INTO|key_hash/);
      for (const form of [...hashForms(hashKey(apiKey)), ...hashForms(hashKey(proxyKey))]) {
        expect(text).not.toContain(form);
      }
      const stored = await t.raw.query(
        'SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = $1',
        [missing],
      );
      expect(stored.rows[0].n).toBe(0);
    });

    it('answers 401 to a write of a tenant removed after its token was last checked', async () => {
      const gone = await TenantSession.create(t, 'Removed');
      await t.http().get('/v1/customers').set(gone.admin).expect(200);
      await t.raw.query('DELETE FROM tenants WHERE id = $1', [gone.tenantId]);
      expectUnknown(await t.http().post('/v1/customers').set(gone.admin).send({ name: 'c' }));
    });
  });

  describe('the log of an unhandled database error', () => {
    it('names the code and the constraint, never the SQL, its values or the driver detail', async () => {
      const { key } = await a.apiKey();
      const hash = hashKey(key);
      let failure: unknown;
      try {
        // The same hash again: a unique violation whose driver detail quotes the hash.
        await t.app.get(DataSource).transaction(async (m) => {
          await m.query(`SELECT set_config('app.tenant_id', $1, true)`, [a.tenantId]);
          await m.query(
            `INSERT INTO api_keys (tenant_id, name, role, key_hash, key_hint)
             VALUES ($1, 'again', 'admin', $2, 'hint')`,
            [a.tenantId, hash],
          );
        });
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(QueryFailedError);
      const reply = replyStub();
      const host = { switchToHttp: () => ({ getResponse: () => reply }) } as ArgumentsHost;
      const lines = await logged(async () => {
        new WireExceptionFilter().catch(failure, host);
        await Promise.resolve();
      });
      expect(reply.code).toBe(500);
      expect(lines).toHaveLength(1);
      const line = lines[0];
      expect(JSON.parse(line)).toMatchObject({
        msg: 'unhandled error',
        error: { type: 'QueryFailedError', code: '23505', constraint: expect.any(String) },
      });
      expect(line).not.toMatch(/parameters|driverError|INSERT INTO|"detail"|already exists/);
      for (const form of hashForms(hash)) expect(line).not.toContain(form);

      // A background job logs what it meets through Nest's logger: reduced the same way.
      const jobLines = await logged(async () => {
        new Logger('SomeJob').error(failure);
        await Promise.resolve();
      });
      expect(jobLines).toHaveLength(1);
      expect(JSON.parse(jobLines[0])).toMatchObject({ err: { type: 'QueryFailedError' } });
      expect(jobLines[0]).not.toMatch(/parameters|driverError|INSERT INTO|"detail"|already exists/);
      for (const form of hashForms(hash)) expect(jobLines[0]).not.toContain(form);
    });
  });
});
