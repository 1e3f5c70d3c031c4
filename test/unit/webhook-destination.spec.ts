import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  refuseDestination,
  send,
  type DestinationPolicy,
  type Resolve,
} from '../../src/webhooks/destination';

// Sending, and the address check at connect time; which URLs are refused when written is in
// webhook-destination-refusals.spec.ts.
const PUBLIC_ONLY: DestinationPolicy = { allowHttp: true, allowPrivateNetworks: false };
const PRIVATE_TOO: DestinationPolicy = { allowHttp: true, allowPrivateNetworks: true };
// Generous: several engineers' tests share two cores.
const MARGIN_MS = 1_500;

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  port: number;
  url: string;
  /** TCP connections accepted, whether or not a request followed. */
  connections: number;
  requests: Received[];
  /** Resolves when the server sees the connection go. */
  closed: Promise<void>;
}

const servers: (http.Server | https.Server)[] = [];

async function receiver(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<Receiver> {
  let socketClosed: () => void = () => undefined;
  const server = http.createServer();
  const state: Receiver = {
    port: 0,
    url: '',
    connections: 0,
    requests: [],
    closed: new Promise<void>((resolve) => (socketClosed = resolve)),
  };
  server.on('connection', (socket) => {
    state.connections += 1;
    socket.on('close', socketClosed);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  return state;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const ok = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('thanks');
const resolvesTo =
  (...addresses: string[]): Resolve =>
  () =>
    Promise.resolve(addresses);

describe('send', () => {
  const headers = {
    'content-type': 'application/json',
    'webhook-id': 'msg_2mZ1',
    'webhook-timestamp': '1732590000',
    'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  };
  const body = JSON.stringify({ type: 'event.created', data: { note: 'café ☕' } });

  it('POSTs the exact body and headers and answers the status', async () => {
    const target = await receiver(ok);
    const result = await send(`${target.url}/hooks/in?x=1`, body, headers, {
      timeoutMs: 5_000,
      policy: PRIVATE_TOO,
    });
    expect(result).toEqual({ status: 200, error: null, durationMs: expect.any(Number) });
    expect(target.requests).toHaveLength(1);
    const [got] = target.requests;
    expect(got).toMatchObject({ method: 'POST', url: '/hooks/in?x=1', body });
    expect(got.headers).toMatchObject({
      ...headers,
      'content-length': String(Buffer.byteLength(body)),
    });
  });

  it.each(['127.0.0.1', 'localhost'])(
    'refuses %s without private networks, and nothing reaches the receiver',
    async (host) => {
      const target = await receiver(ok);
      const result = await send(`http://${host}:${target.port}/`, body, headers, {
        timeoutMs: 5_000,
        policy: PUBLIC_ONLY,
      });
      expect(result).toMatchObject({ status: null, error: expect.stringMatching(/loopback/) });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(target.connections).toBe(0);
    },
  );

  it('refuses a bad URL without throwing', async () => {
    const options = { timeoutMs: 1_000, policy: PUBLIC_ONLY };
    expect(await send('file:///etc/passwd', body, headers, options)).toMatchObject({
      status: null,
      error: 'The URL must use https or http',
    });
    expect(await send('http://[::ffff:169.254.169.254]/', body, headers, options)).toMatchObject({
      status: null,
      error: expect.stringMatching(/cloud metadata/),
    });
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await receiver(ok);
    const target = await receiver((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/stolen` }).end();
    });
    const result = await send(`${target.url}/`, body, headers, {
      timeoutMs: 5_000,
      policy: PRIVATE_TOO,
    });
    expect(result).toMatchObject({ status: 302, error: 'HTTP 302' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(elsewhere.connections).toBe(0);
  });

  it('answers a 500 as a failure with its status', async () => {
    const target = await receiver((_req, res) => res.writeHead(500).end('boom'));
    expect(
      await send(target.url, body, headers, { timeoutMs: 5_000, policy: PRIVATE_TOO }),
    ).toMatchObject({ status: 500, error: 'HTTP 500' });
  });

  it('gives up on a receiver that never answers, within the timeout', async () => {
    const target = await receiver(() => undefined);
    const started = Date.now();
    const result = await send(target.url, body, headers, { timeoutMs: 300, policy: PRIVATE_TOO });
    expect(result).toMatchObject({ status: null, error: 'No answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(300 + MARGIN_MS);
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    await target.closed; // and does not keep the connection
  });

  it('does not let a trickled body hold the attempt past the timeout', async () => {
    let trickle: NodeJS.Timeout | undefined;
    const target = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('.');
      trickle = setInterval(() => res.write('.'), 50);
    });
    try {
      const started = Date.now();
      const result = await send(target.url, body, headers, { timeoutMs: 400, policy: PRIVATE_TOO });
      expect(Date.now() - started).toBeLessThan(400 + MARGIN_MS);
      // The status line came in time: the receiver took the webhook, whatever its body does.
      expect(result).toMatchObject({ status: 200, error: null });
      await target.closed;
    } finally {
      clearInterval(trickle);
    }
  });

  it('stops reading a large answer at the cap', async () => {
    const target = await receiver((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      pump();
    });
    const started = Date.now();
    const result = await send(target.url, body, headers, {
      timeoutMs: 10_000,
      policy: PRIVATE_TOO,
    });
    expect(result).toMatchObject({ status: 200, error: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    await target.closed;
  });

  it('answers a host that does not resolve as an error', async () => {
    const result = await send('https://nowhere.invalid/', body, headers, {
      timeoutMs: 5_000,
      policy: PRIVATE_TOO,
    });
    expect(result).toMatchObject({
      status: null,
      error: expect.stringMatching(/^The host nowhere\.invalid (does not resolve|could not be)/),
    });
  });

  it('answers a refused connection as an error', async () => {
    const gone = await receiver(ok);
    const url = gone.url;
    const server = servers.pop() as http.Server;
    await new Promise((resolve) => server.close(resolve));
    const result = await send(url, body, headers, { timeoutMs: 5_000, policy: PRIVATE_TOO });
    expect(result).toMatchObject({ status: null, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('answers a header it cannot send as an error instead of throwing', async () => {
    const target = await receiver(ok);
    const result = await send(
      target.url,
      body,
      { 'x-bad': 'a\r\nb' },
      {
        timeoutMs: 5_000,
        policy: PRIVATE_TOO,
      },
    );
    expect(result).toMatchObject({ status: null, error: expect.stringMatching(/x-bad/i) });
    expect(target.connections).toBe(0);
  });

  it("verifies the receiver's certificate, and sends nothing to one it cannot trust", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
    try {
      // prettier-ignore
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=hooks.example.test',
        '-addext', 'subjectAltName=DNS:hooks.example.test',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      let requests = 0;
      const server = https.createServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => {
          requests += 1;
          res.end();
        },
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      const { port } = server.address() as AddressInfo;
      const result = await send(`https://hooks.example.test:${port}/`, body, headers, {
        timeoutMs: 5_000,
        policy: PRIVATE_TOO,
        resolve: resolvesTo('127.0.0.1'),
      });
      expect(result).toMatchObject({ status: null, error: expect.stringMatching(/self.signed/) });
      expect(requests).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('checks the address again as it connects (DNS rebinding)', () => {
    it('connects to the address the resolver gave, when it is allowed', async () => {
      const target = await receiver(ok);
      const result = await send(`http://hooks.example.test:${target.port}/in`, body, headers, {
        timeoutMs: 5_000,
        policy: PRIVATE_TOO,
        resolve: resolvesTo('127.0.0.1'),
      });
      expect(result).toMatchObject({ status: 200, error: null });
      expect(target.requests[0].headers.host).toBe(`hooks.example.test:${target.port}`);
    });

    it('refuses a name that passed when written but resolves to loopback at connect', async () => {
      const target = await receiver(ok);
      const answers = [['93.184.215.14'], ['127.0.0.1']];
      const rebinding: Resolve = () => Promise.resolve(answers.shift() ?? ['127.0.0.1']);
      const url = `http://hooks.example.test:${target.port}/in`;
      expect(await refuseDestination(url, PUBLIC_ONLY, { resolve: rebinding })).toBeNull();
      const result = await send(url, body, headers, {
        timeoutMs: 5_000,
        policy: PUBLIC_ONLY,
        resolve: rebinding,
      });
      expect(result).toEqual({
        status: null,
        error:
          'The host hooks.example.test resolves to 127.0.0.1, a loopback address, and webhooks go only to public addresses',
        durationMs: expect.any(Number),
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(target.connections).toBe(0);
    });

    it('refuses the whole answer when one address of it is refused', async () => {
      const target = await receiver(ok);
      const result = await send(`http://hooks.example.test:${target.port}/`, body, headers, {
        timeoutMs: 5_000,
        policy: PRIVATE_TOO,
        resolve: resolvesTo('127.0.0.1', '169.254.169.254'),
      });
      expect(result).toMatchObject({ status: null, error: expect.stringMatching(/metadata/) });
      expect(target.connections).toBe(0);
    });

    it('bounds a resolver that never answers by the timeout', async () => {
      const started = Date.now();
      const result = await send('http://hooks.example.test/', body, headers, {
        timeoutMs: 200,
        policy: PUBLIC_ONLY,
        resolve: () => new Promise(() => undefined),
      });
      expect(result).toMatchObject({ status: null, error: 'No answer within 200 ms' });
      expect(Date.now() - started).toBeLessThan(200 + MARGIN_MS);
    });
  });
});
