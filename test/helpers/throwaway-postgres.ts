/**
 * A throwaway PostgreSQL for tests: initdb in a temporary folder, a server on a free
 * loopback port (Unix socket in the same folder), a fresh database, a URL; stop() shuts
 * it down and removes the folder. As root (CI containers) the server runs as the
 * `postgres` user through runuser, as PostgreSQL requires. `.ci/run` installs the
 * binaries (Debian's `postgresql`); where they are absent, starting one throws saying what
 * to install (the tests that need a server fail; they are not skipped).
 */
import { existsSync, readdirSync } from 'node:fs';
import { freeLoopbackPort, findBinary, removeFolder, run, runningAsRoot, temporaryFolder } from './throwaway-server.js';

export interface ThrowawayPostgres {
  /** `postgres://…@127.0.0.1:port/database` */
  url: string;
  port: number;
  /** A URL for another fresh database on the same server. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function postgresBinDirectory(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) if (existsSync(`${root}/${version}/bin/pg_ctl`)) return `${root}/${version}/bin`;
  }
  const pgCtl = findBinary(['pg_ctl']);
  return pgCtl ? pgCtl.slice(0, pgCtl.lastIndexOf('/')) : null;
}

const binDirectory = postgresBinDirectory();
const serverUser = runningAsRoot ? 'postgres' : null;

/** Why a throwaway PostgreSQL cannot start here, or null when it can. */
const postgresUnavailable: string | null = !binDirectory
  ? 'PostgreSQL binaries (pg_ctl, initdb) are not installed; .ci/run installs the Debian package `postgresql`'
  : runningAsRoot && !findBinary(['runuser'])
    ? 'running as root without runuser, so PostgreSQL cannot be started as an unprivileged user'
    : null;

const DATABASE_USER = 'switchyard';

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  if (postgresUnavailable || !binDirectory) throw new Error(postgresUnavailable ?? 'no PostgreSQL');
  const folder = temporaryFolder('switchyard-pg-', serverUser ?? undefined);
  const dataDirectory = `${folder}/data`;
  const port = await freeLoopbackPort();
  try {
    run(serverUser, `${binDirectory}/initdb`, ['-D', dataDirectory, '-U', DATABASE_USER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
    run(serverUser, `${binDirectory}/pg_ctl`, [
      '-D', dataDirectory, '-l', `${folder}/server.log`, '-w', '-t', '60',
      '-o', `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`,
      'start',
    ]);
  } catch (error) {
    removeFolder(folder);
    throw new Error(`throwaway PostgreSQL did not start: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  }
  const urlFor = (database: string): string => `postgres://${DATABASE_USER}@127.0.0.1:${port}/${database}`;
  const createDatabase = async (name: string): Promise<string> => {
    run(serverUser, `${binDirectory}/createdb`, ['-h', '127.0.0.1', '-p', String(port), '-U', DATABASE_USER, name]);
    return urlFor(name);
  };
  const url = await createDatabase('switchyard_test');
  let stopped = false;
  return {
    url,
    port,
    createDatabase,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run(serverUser, `${binDirectory}/pg_ctl`, ['-D', dataDirectory, '-m', 'immediate', '-w', 'stop']);
      } finally {
        removeFolder(folder);
      }
    },
  };
}
