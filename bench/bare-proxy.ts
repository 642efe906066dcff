/**
 * The baseline: a bare Node pass-through proxy with a keep-alive agent. No parsing, no
 * auth, no logging — the floor any gateway's overhead is measured against.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';

const upstreamPort = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((request, response) => {
  const upstream = httpRequest(
    { host: '127.0.0.1', port: upstreamPort, method: request.method, path: request.url, headers: request.headers, agent },
    (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      upstreamResponse.pipe(response);
    },
  );
  upstream.on('error', () => {
    response.writeHead(502);
    response.end();
  });
  request.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
// A normal exit on SIGTERM, so a `--cpu-prof` run (cpu-per-request's SWITCHYARD_BENCH_PROFILE) writes its profile.
process.on('SIGTERM', () => process.exit(0));
