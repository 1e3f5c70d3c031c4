import { rmSync } from 'node:fs';
import { FaultGlobals } from './database-control';

export default async function faultTeardown(): Promise<void> {
  const globals = globalThis as FaultGlobals & { __HYDRACORE_VERDICT__?: string };
  const faults = globals.__HYDRACORE_FAULTS__;
  if (faults) {
    faults.control.closeAllConnections(); // a test's keep-alive socket would hold close() open
    await new Promise((done) => faults.control.close(done));
    await faults.db.stop(); // a no-op if a test left it stopped
    rmSync(faults.dir, { recursive: true, force: true });
  }
  // Printed last, as in the main suite's teardown: the line CI reads.
  if (globals.__HYDRACORE_VERDICT__) process.stderr.write(`\n${globals.__HYDRACORE_VERDICT__}\n`);
}
