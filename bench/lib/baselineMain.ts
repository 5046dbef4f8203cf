/**
 * The physical limit of this machine for the benchmark's shape of work: a bare node:http server that reads
 * each request (whatever its method, path and body) and answers a small JSON. Loaded by the same load
 * generator, with the same requests and connections, as reelay is.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveCommands } from './child.ts';

const BODY = Buffer.from('{"code":200,"data":{"ok":true}}');
const server = http.createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length });
    res.end(BODY);
  });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
serveCommands({ url }, {}, () => {
  server.closeAllConnections();
  server.close();
});
