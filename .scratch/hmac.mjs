import crypto from 'node:crypto';
const secret = crypto.randomBytes(32);
const msg = 'reelay-files-v1\n1767225600\nresults/task_01JABCDEFGHJKMNPQRSTVWXYZ/video-0.mp4';
function time(name, n, f) { for (let i = 0; i < n / 10; i++) f(i); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) f(i); console.log(name.padEnd(20), (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs'); }
time('createHmac', 200000, () => crypto.createHmac('sha256', secret).update(msg).digest('base64url'));
const keyObj = crypto.createSecretKey(secret);
time('createHmac keyobj', 200000, () => crypto.createHmac('sha256', keyObj).update(msg).digest('base64url'));
const ipad = Buffer.alloc(64, 0x36), opad = Buffer.alloc(64, 0x5c);
for (let i = 0; i < 32; i++) { ipad[i] ^= secret[i]; opad[i] ^= secret[i]; }
const inner = crypto.createHash('sha256').update(ipad), outer = crypto.createHash('sha256').update(opad);
const viaCopy = () => outer.copy().update(inner.copy().update(msg).digest()).digest('base64url');
console.log(viaCopy() === crypto.createHmac('sha256', secret).update(msg).digest('base64url'));
time('hash copies', 200000, viaCopy);
time('crypto.hash sha256', 200000, () => crypto.hash('sha256', msg, 'base64url'));
time('encodeURIComponent', 200000, () => 'results/task_01JABCDEFGHJKMNPQRSTVWXYZ/video-0.mp4'.split('/').map(encodeURIComponent).join('/'));
