import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The checkout whose `dist` is under test: this one unless HYDRACORE_BUILD_DIR names another. */
export const BUILD_DIR = resolve(process.env.HYDRACORE_BUILD_DIR ?? resolve(__dirname, '../..'));

/**
 * A copy of the build in `dir`, beside links to its package.json and node_modules, so that a
 * rebuild of the checkout while the suite runs cannot change the code its replicas start.
 * Returns the copy's main.js.
 */
export function snapshotBuild(dir: string): string {
  const root = join(dir, 'build');
  mkdirSync(root);
  cpSync(join(BUILD_DIR, 'dist'), join(root, 'dist'), { recursive: true });
  for (const name of ['package.json', 'node_modules'])
    symlinkSync(join(BUILD_DIR, name), join(root, name));
  return join(root, 'dist/src/main.js');
}
export const JWT_SECRET = 'deployment-jwt-secret-that-is-long-enough-0123';
export const PLATFORM_KEY = 'deployment-platform-key-0123456789';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Replica {
  port: number;
  base: string;
  output(): string;
  exitCode(): number | null;
  /** Resolves once /readyz answers 200; throws when the process exits or `withinMs` passes. */
  ready(withinMs: number): Promise<number>;
  /** SIGTERM, then the exit code (SIGKILL after `withinMs`, and null). */
  stop(withinMs?: number): Promise<number | null>;
}

/**
 * `node dist/src/main.js` as a replica runs in production, with only the environment given
 * (no .env: it runs in `cwd`, a directory without one).
 */
export function startReplica(
  main: string,
  port: number,
  cwd: string,
  env: Record<string, string>,
): Replica {
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      JWT_SECRET,
      ENCRYPTION_KEY: '33'.repeat(32),
      PLATFORM_API_KEY: PLATFORM_KEY,
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  return {
    port,
    base,
    output: () => out,
    exitCode: () => child.exitCode,
    async ready(withinMs) {
      for (;;) {
        const status = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3000) }).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) return Date.now() - started;
        if (child.exitCode !== null) {
          throw new Error(`replica on ${port} exited with ${child.exitCode}:\n${out}`);
        }
        if (Date.now() - started > withinMs) {
          throw new Error(`replica on ${port} not ready within ${withinMs} ms:\n${out}`);
        }
        await sleep(100);
      }
    },
    async stop(withinMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), withinMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
