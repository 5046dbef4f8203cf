/** CPU counters from /proc, for reading what a process or one of its threads did during a load. */
import fs from 'node:fs';

/** CPU time (ms) in the text of a /proc `stat` file: its utime and stime, in clock ticks of 10 ms. */
export function statCpuMs(stat: string): number {
  // Fields 14 and 15 of stat, counted from after the command name (which may hold spaces and parentheses).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A thread's CPU time (ms) and voluntary context switches so far, from /proc. */
export function threadCounters(pid: number, tid = pid): { cpuMs: number; sleeps: number } {
  const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  const sleeps = Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? NaN);
  return { cpuMs: statCpuMs(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')), sleeps };
}
