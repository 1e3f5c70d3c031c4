export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __HYDRACORE_PG__?: { stop(): Promise<void> } }).__HYDRACORE_PG__?.stop();
}
