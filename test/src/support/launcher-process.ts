import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const LAUNCHER = fileURLToPath(new URL('../../../apps/launcher/dist/main.js', import.meta.url));

export interface LauncherProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the stdout so far once Airlock says it is running; rejects if it exits first. */
  running(timeoutMs?: number): Promise<string>;
  /** Resolves with the stdout so far once it includes `text`; rejects if the process exits first. */
  printed(text: string, timeoutMs?: number): Promise<string>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  exited(): Promise<number | null>;
}

/**
 * Runs `npm start`'s launcher as a separate process in `cwd`, with only the
 * variables given (plus PATH and HOME): no DATABASE_URL, no REDIS_URL unless set.
 */
export function spawnLauncher(cwd: string, env: Record<string, string>, args: string[] = []): LauncherProcess {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  const printed = (text: string, timeoutMs = 90_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`"${text}" not printed after ${timeoutMs} ms:\n${out}\n${err}`)), timeoutMs);
      const check = () => {
        if (out.includes(text)) {
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve(out);
        }
      };
      child.stdout.on('data', check);
      check();
      void exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before printing "${text}":\n${out}\n${err}`));
      });
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    printed,
    running: (timeoutMs = 90_000) => printed('Airlock is running.', timeoutMs),
    stop: async () => {
      child.kill('SIGTERM');
      return exit;
    },
  };
}

export { findFreePort as freePort } from '@airlock/launcher/private-redis';
