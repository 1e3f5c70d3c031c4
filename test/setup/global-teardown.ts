type Globals = { __HYDRACORE_PG__?: { stop(): Promise<void> }; __HYDRACORE_VERDICT__?: string };

export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as Globals;
  await globals.__HYDRACORE_PG__?.stop();
  if (globals.__HYDRACORE_VERDICT__) process.stderr.write(`\n${globals.__HYDRACORE_VERDICT__}\n`);
}
