/** Child processes and what /proc says about them, for the benchmark scripts (Linux only). */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: string,
): Promise<ChildProcess> {
  // BENCH_NODE_FLAGS: Node flags for every process started, e.g. --perf-basic-prof for `perf`.
  const flags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...flags, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((done, fail) => {
    let out = '';
    const watch = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(ready)) done(child);
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.once('exit', (code) =>
      fail(new Error(`${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`)),
    );
  });
}

/** BENCH_CPU_PROF=<dir>: Node's flags that write the API's CPU profile there when it stops. */
export function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', resolve(dir)] : [];
}

/** Node's flags in `npm run start:prod` (the heap limit): the API is measured as it runs. */
export function productionFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return pkg.scripts['start:prod'].split(/\s+/).filter((arg) => arg.startsWith('--'));
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

/**
 * CPU time a process has used so far (utime + stime), in ms; with `reaped`, also that of its
 * children that have ended (cutime + cstime).
 */
export function cpuMs(pid: number, reaped = false): number {
  // Fields after the parenthesised command name; utime, stime, cutime, cstime are the 12th-15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, ...(reaped ? [13, 14] : [])].reduce((n, i) => n + Number(fields[i]), 0);
  return (ticks * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // USER_HZ, 100 on every Linux that Node supports

/**
 * CPU time of the PostgreSQL server so far: the postmaster, the backends it runs now, and those
 * that ended (a pool closing idle connections mid-scenario must not take their time away).
 */
export function databaseCpuMs(pgDir: string): number {
  const postmaster = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuMs(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // ppid is the second field after the command name
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) {
        total += cpuMs(Number(entry));
      }
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total;
}
