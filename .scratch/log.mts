import { pino } from 'pino';
const logger = pino({ level: 'info', base: { service: 'reelay', pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, pino.destination({ dest: '/dev/null', sync: false }));
const stream: any = (logger as any)[pino.symbols.streamSym];
function time(name: string, n: number, f: (i: number) => void) { for (let i = 0; i < n / 10; i++) f(i); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) f(i); console.log(name.padEnd(20), (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs'); }
time('pino info', 300000, () => logger.info({ reqId: 'req_01JABCDEFGHJKMNPQRSTVWXYZ', method: 'GET', url: '/v1/tasks/task_01JABCDEFGHJKMNPQRSTVWXYZ', status: 200, ms: 1 }, 'request'));
const prefix = `{"level":"info","time":"`;
const mid = `","service":"reelay","pid":${process.pid},"reqId":`;
time('manual', 300000, () => stream.write(prefix + new Date().toISOString() + mid + JSON.stringify('req_01JABCDEFGHJKMNPQRSTVWXYZ') + ',"method":"GET","url":' + JSON.stringify('/v1/tasks/task_01JABCDEFGHJKMNPQRSTVWXYZ') + ',"status":200,"ms":1,"msg":"request"}\n'));
