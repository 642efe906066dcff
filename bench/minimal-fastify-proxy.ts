/**
 * A second baseline: the least a Fastify + undici gateway can do — parse the JSON body,
 * re-serialise it upstream, parse the answer, send it back (a stream's answer is piped back as
 * it comes, untouched). No auth, routing, translation or logging.
 */
import Fastify from 'fastify';
import { Agent } from 'undici';

const upstreamPort = Number(process.argv[2]);
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
const app = Fastify({ logger: false });
app.post('/v1/chat/completions', async (request, reply) => {
  const response = await agent.request({
    origin: `http://127.0.0.1:${upstreamPort}`,
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
    body: JSON.stringify(request.body),
  });
  if ((request.body as { stream?: unknown }).stream === true) {
    return reply.code(response.statusCode).header('content-type', 'text/event-stream').send(response.body);
  }
  const body = await response.body.json();
  return reply.code(response.statusCode).header('content-type', 'application/json').send(JSON.stringify(body));
});
app.listen({ host: '127.0.0.1', port: 0 }).then(() => {
  const address = app.server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
// A normal exit on SIGTERM, so a `--cpu-prof` run (cpu-per-request's SWITCHYARD_BENCH_PROFILE) writes its profile.
process.on('SIGTERM', () => process.exit(0));
