/**
 * The receiving end of the webhook benchmarks (bench/webhooks.ts): a node:http server answering
 * every POST with 200 as soon as its body is in. It runs as a child process, so the load
 * generator in the bench process neither slows its answers nor shares its event loop.
 *
 * Deliveries are counted per path (one path per endpoint) by `webhook-id`: a second arrival of
 * an id at the same path is a duplicate. `GET /stats` says what arrived (`?lags` adds the lag
 * percentiles), `DELETE /stats` forgets it all.
 */
import http from 'node:http';

interface PathStats {
  ids: Set<string>;
  duplicates: number;
  /** Arrivals without a `v1,` signature header. */
  unsigned: number;
  /** Arrival less the event's occurred_at, in ms. */
  lags: number[];
  firstOccurredMs: number;
  lastArrivalMs: number;
}

export interface ReceivedAtPath {
  distinct: number;
  duplicates: number;
  unsigned: number;
  firstOccurredMs: number;
  lastArrivalMs: number;
  lagP50Ms?: number;
  lagP99Ms?: number;
  lagMaxMs?: number;
}

const paths = new Map<string, PathStats>();

function record(path: string, id: string, signature: string, body: string): void {
  const arrived = Date.now();
  let s = paths.get(path);
  if (!s) {
    s = {
      ids: new Set(),
      duplicates: 0,
      unsigned: 0,
      lags: [],
      firstOccurredMs: Infinity,
      lastArrivalMs: 0,
    };
    paths.set(path, s);
  }
  if (s.ids.has(id)) s.duplicates++;
  else s.ids.add(id);
  if (!signature.startsWith('v1,')) s.unsigned++;
  const occurred = Date.parse((JSON.parse(body) as { occurred_at: string }).occurred_at);
  s.lags.push(arrived - occurred);
  s.firstOccurredMs = Math.min(s.firstOccurredMs, occurred);
  s.lastArrivalMs = Math.max(s.lastArrivalMs, arrived);
}

function summary(withLags: boolean): Record<string, ReceivedAtPath> {
  const out: Record<string, ReceivedAtPath> = {};
  for (const [path, s] of paths) {
    out[path] = {
      distinct: s.ids.size,
      duplicates: s.duplicates,
      unsigned: s.unsigned,
      firstOccurredMs: s.firstOccurredMs,
      lastArrivalMs: s.lastArrivalMs,
    };
    if (withLags && s.lags.length > 0) {
      const sorted = [...s.lags].sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
      Object.assign(out[path], { lagP50Ms: at(0.5), lagP99Ms: at(0.99), lagMaxMs: at(1) });
    }
  }
  return out;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://receiver');
  if (url.pathname === '/stats') {
    if (req.method === 'DELETE') paths.clear();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(summary(url.searchParams.has('lags'))));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(200).end();
    record(
      url.pathname,
      String(req.headers['webhook-id']),
      String(req.headers['webhook-signature'] ?? ''),
      Buffer.concat(chunks).toString(),
    );
  });
});

if (require.main === module) {
  server.listen(Number(process.env.PORT), '127.0.0.1', () => {
    process.stdout.write('receiver ready\n');
  });
}
