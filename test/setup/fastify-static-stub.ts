/**
 * Jest's CommonJS sandbox cannot load @fastify/static's ES-module dependencies. Inside Jest the
 * Swagger UI's static files are therefore not served (the /docs page and /openapi.json still
 * are); the start-up smoke test runs the real server, assets included.
 */
async function fastifyStaticStub(): Promise<void> {}
(fastifyStaticStub as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export default fastifyStaticStub;
module.exports = fastifyStaticStub;
