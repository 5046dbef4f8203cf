/** Per-thread counters from /proc, for reading what an event loop did during a load. */
import fs from 'node:fs';

/** A thread's CPU time (ms) and voluntary context switches so far, from /proc. */
export function threadCounters(pid: number, tid = pid): { cpuMs: number; sleeps: number } {
  const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  const sleeps = Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? NaN);
  // utime and stime, in clock ticks of 10 ms.
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, sleeps };
}
