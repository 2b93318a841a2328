// CPU time of the processes a bench runs, read from /proc: per process, or for
// all of PostgreSQL's or Redis's processes on the machine (a bench that counts
// those must run alone, as their whole CPU time is counted).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ (`getconf CLK_TCK`): /proc reports CPU time in these ticks. */
const MS_PER_TICK = 10;

/** Fields after the command name in /proc/<pid>/stat (its name may hold spaces); null once it is gone. */
function statFields(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return null;
  }
}

export const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** CPU milliseconds (user + system) a process used so far; with `children`, also its children that exited and were waited for. */
export function cpuMs(pid: number, children = false): number {
  const fields = statFields(pid);
  if (fields === null) return 0;
  const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks * MS_PER_TICK;
}

function processesNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith(name);
      } catch {
        return false;
      }
    });
}

export const childrenOf = (pid: number): number[] => processesNamed('').filter((child) => statFields(child)?.[1] === String(pid));

let postmaster: number | undefined;
/** All of PostgreSQL's CPU so far: its backends come and go, so the postmaster counts those that exited, the live ones count themselves. */
export function postgresCpuMs(): number {
  postmaster ??= Number(execFileSync('pgrep', ['-o', 'postgres']).toString().trim());
  const main = postmaster;
  return cpuMs(main, true) + sum(processesNamed('postgres').filter((pid) => pid !== main).map((pid) => cpuMs(pid)));
}

export const redisCpuMs = (): number => sum(processesNamed('redis-server').map((pid) => cpuMs(pid)));
