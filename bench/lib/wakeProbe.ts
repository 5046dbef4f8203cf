/**
 * What a wake-up across CPUs costs on this machine: the round trip of one byte over a loopback TCP connection
 * between two Node processes, placed as the benchmark places a server and its load generator (one on the
 * event loop's CPU, one on the others), and then both on the event loop's CPU.
 *
 * Each byte sent to a process asleep in epoll_wait on another CPU has the sender's kernel wake it there: an
 * inter-processor interrupt, which in a VM is an exit to the hypervisor. That is the price every answer pays
 * when it wakes a waiting load generator, and every request when it wakes a waiting event loop; the open
 * loop at the target rate pays it on most loop turns, the closed loop at saturation seldom (everyone is
 * awake). On the AMD EPYC host of 2026-12-06 a C program measured ~47 µs for such a round trip across the
 * two vCPUs and ~5 µs on one (docs/decisions/0012-performance.md, item 45). This row puts a number on the
 * part of the open loop's extra cost per answer that is the machine's.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpuLists } from './cpuPlacement.ts';
import { percentile } from './percentile.ts';

/** Echoes every byte back; prints its port once listening. */
const ECHO = `const s=require('net').createServer((c)=>{c.setNoDelay(true);c.on('data',(d)=>c.write(d));});s.listen(0,'127.0.0.1',()=>console.log(s.address().port));process.stdin.on('end',()=>process.exit(0));process.stdin.resume();`;

/**
 * Sends one byte at a time, the next when the last came back; prints the round trips' times (µs) and its
 * own CPU time per round trip (µs) as JSON.
 */
const PING = `const [port,n,warm]=process.argv.slice(1).map(Number);const c=require('net').connect(port,'127.0.0.1');c.setNoDelay(true);const b=Buffer.from('x');const t=[];let i=0,t0=0,cpu;c.on('connect',()=>{t0=performance.now();c.write(b);});c.on('data',()=>{const now=performance.now();if(i===warm)cpu=process.cpuUsage();if(i++>=warm)t.push((now-t0)*1000);if(i>=n+warm){const u=process.cpuUsage(cpu);console.log(JSON.stringify({t,cpu:(u.user+u.system)/n}));c.destroy();return;}t0=performance.now();c.write(b);});`;

export interface RoundTrips {
  /** Round trip, µs. */
  p50: number;
  p99: number;
  /** CPU time the pinger (on the event loop's CPU, where a server's loop runs) spent per round trip, µs. */
  cpu: number;
}

export interface WakeProbe {
  /** The echo on the other CPUs, the pinger on the event loop's CPU. */
  across: RoundTrips;
  /** Both on the event loop's CPU. */
  together: RoundTrips;
  roundTrips: number;
}

function roundTrips(echoCpus: string, pingCpu: string, n: number): Promise<RoundTrips> {
  return new Promise((resolve, reject) => {
    const echo = spawn('taskset', ['-c', echoCpus, process.execPath, '-e', ECHO], { stdio: ['pipe', 'pipe', 'inherit'] });
    echo.on('error', reject);
    // An echo that dies before it listens would otherwise leave the run waiting for its port forever.
    echo.on('exit', (code) => reject(new Error(`the wake-up probe's echo process exited (${code}) before it listened`)));
    echo.stdout.once('data', (d: Buffer) => {
      try {
        const out = execFileSync('taskset', ['-c', pingCpu, process.execPath, '-e', PING, String(Number(d)), String(n), String(Math.ceil(n / 10))], { encoding: 'utf8', timeout: 60_000 });
        const r = JSON.parse(out) as { t: number[]; cpu: number };
        const t = r.t.sort((a, b) => a - b);
        resolve({ p50: percentile(t, 0.5), p99: percentile(t, 0.99), cpu: r.cpu });
      } catch (e) {
        reject(e);
      } finally {
        echo.stdin.end();
      }
    });
  });
}

/** The probe, or null where the benchmark does not place threads on CPUs (one CPU, no taskset, BENCH_NO_PINNING). */
export async function wakeProbe(n = 5000): Promise<WakeProbe | null> {
  const cpus = cpuLists();
  if (!cpus) return null;
  const across = await roundTrips(cpus.others, cpus.loop, n);
  const together = await roundTrips(cpus.loop, cpus.loop, n);
  return { across, together, roundTrips: n };
}
