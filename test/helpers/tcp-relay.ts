/**
 * A loopback TCP relay in front of a server (a throwaway PostgreSQL) that a test can take
 * down, hold or bring back, to see what a client does when its server goes away or stalls:
 * - `down()`: every connection is reset and new ones are reset at once (a server gone);
 * - `hold()`: connections stay open but nothing passes either way (a server stuck);
 * - `up()`: back to passing bytes (what was held goes on).
 * `connections` counts the connections accepted, so a test can see how often a client retries.
 */
import net from 'node:net';

export interface TcpRelay {
  port: number;
  connections: number;
  down(): void;
  hold(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number): Promise<TcpRelay> {
  let state: 'up' | 'down' | 'held' = 'up';
  const pairs = new Set<{ client: net.Socket; server: net.Socket }>();
  const relay: TcpRelay = {
    port: 0,
    connections: 0,
    down() {
      state = 'down';
      for (const pair of pairs) {
        pair.client.resetAndDestroy();
        pair.server.destroy();
      }
      pairs.clear();
    },
    hold() {
      state = 'held';
      for (const pair of pairs) {
        pair.client.pause();
        pair.server.pause();
      }
    },
    up() {
      state = 'up';
      for (const pair of pairs) {
        pair.client.resume();
        pair.server.resume();
      }
    },
    close: () => new Promise((resolve) => {
      relay.down();
      server.close(() => resolve());
    }),
  };
  const server = net.createServer((client) => {
    relay.connections += 1;
    if (state === 'down') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, server: upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (state === 'held') {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}
