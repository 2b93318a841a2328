// Where the tests find the machine's services. Override with these variables
// to run the suite against other servers.
export const testEnvironment = {
  /** A database the test user can connect to and CREATE DATABASE from. */
  postgresAdminUrl: process.env.AIRLOCK_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.AIRLOCK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  /** The browser the web editor's tests drive (Debian's chromium package). */
  chromiumPath: process.env.AIRLOCK_TEST_CHROMIUM ?? '/usr/bin/chromium',
};
