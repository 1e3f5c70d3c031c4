import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const MAIN = resolve(__dirname, '../../dist/src/main.js');
export const JWT_SECRET = 'fault-jwt-secret-that-is-long-enough-0123456789';
export const PLATFORM_KEY = 'fault-platform-key-0123456789abcdef';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

/**
 * The built server as production runs it, on this suite's database; resolves once ready.
 * `nodeArgs` go to node before the script (a heap cap), `env` adds to the environment.
 */
export async function startBuilt(
  port: number,
  databaseUrl: string,
  options: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<Started> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET,
      ENCRYPTION_KEY: '22'.repeat(32),
      PLATFORM_API_KEY: PLATFORM_KEY,
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((done) =>
    child.once('exit', (code) => done({ code, at: Date.now() })),
  );
  for (let i = 0; ; i++) {
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { child, output: () => out, exited };
    if (i > 300 || child.exitCode !== null) throw new Error(`never ready:\n${out}`);
    await sleep(100);
  }
}
