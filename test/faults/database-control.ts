import type { Server } from 'node:http';
import type { EmbeddedDatabase } from '../../src/database/embedded';

/** Where the fault suite's global setup listens for stop/start requests. */
export const CONTROL_ENV = 'HYDRACORE_FAULTS_CONTROL';

export type FaultGlobals = {
  __HYDRACORE_FAULTS__?: { db: EmbeddedDatabase; control: Server; dir: string };
};

async function send(action: 'stop' | 'start'): Promise<void> {
  const base = process.env[CONTROL_ENV];
  if (!base) throw new Error('the fault suite global setup did not run');
  const res = await fetch(`${base}/${action}`, { method: 'POST' });
  if (res.status !== 204) throw new Error(`database ${action}: ${res.status} ${await res.text()}`);
}

/** Fast shutdown (SIGINT): sessions are terminated, new connections refused; resolves once gone. */
export const stopDatabase = () => send('stop');

/** Starts the same cluster on the same port; resolves once it accepts connections. */
export const startDatabase = () => send('start');
