import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../src/formats/formatError';
import { UrlSource } from '../src/formats/urlSource';

/**
 * A misbehaving HTTP server on 127.0.0.1 (never anything else): silent, trickling, cut short, lying about
 * lengths, redirecting in a loop, answering a web page. Each misbehaviour gets a message, never a hang.
 */
let server: Server;
let base = '';
const body = Uint8Array.from({ length: 4096 }, (_, i) => i % 251);
const open: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    const first = Number(range?.[1] ?? 0);
    const last = Math.min(Number(range?.[2] ?? body.length - 1), body.length - 1);
    const slice = body.subarray(first, last + 1);
    const partial = { 'Content-Range': `bytes ${first}-${last}/${body.length}`, 'Content-Length': slice.length };
    switch (path) {
      case '/good':
        res.writeHead(206, partial).end(Buffer.from(slice));
        return;
      case '/silent':
        open.push(res); // accepts and never answers
        return;
      case '/trickle': {
        if (first === 0 && last <= 1) return void res.writeHead(206, partial).end(Buffer.from(slice));
        res.writeHead(206, partial);
        let at = 0;
        const timer = setInterval(() => {
          if (at >= slice.length || res.destroyed) return clearInterval(timer);
          res.write(Buffer.from(slice.subarray(at, at + 1)));
          at++;
        }, 20);
        return;
      }
      case '/cut':
        if (first === 0 && last <= 1) return void res.writeHead(206, partial).end(Buffer.from(slice));
        res.writeHead(206, partial);
        res.write(Buffer.from(slice.subarray(0, slice.length >> 1)));
        setTimeout(() => res.destroy(), 20);
        return;
      case '/liar': // claims a bigger file than it has: ranges past 4096 come back short
        res.writeHead(206, { 'Content-Range': `bytes ${first}-${last}/100000` }).end(Buffer.from(slice));
        return;
      case '/loop':
        res.writeHead(302, { Location: '/loop' }).end();
        return;
      case '/spa':
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>app</title>');
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of open) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const fast = { stallTimeoutMs: 300, minBytesPerSecond: 20_000 };

describe('URL reads against a misbehaving server', () => {
  it('reads a well-behaved server', async () => {
    const source = await UrlSource.open(`${base}/good`, fast);
    expect(source.size).toBe(4096);
    expect(Array.from(await source.read(250, 4))).toEqual([250, 0, 1, 2]);
  });
  it('a server that never answers: a timeout message, no hang', async () => {
    await expect(UrlSource.open(`${base}/silent`, fast)).rejects.toThrow(/\/silent: did not answer within 0.3 s/);
  });
  it('a server trickling bytes: too slow, no hang', async () => {
    const source = await UrlSource.open(`${base}/trickle`, fast);
    await expect(source.read(0, 2048)).rejects.toThrow(/\/trickle: is too slow: \d+ of 2048 bytes/);
  });
  it('a body cut short: the bytes received and expected', async () => {
    const source = await UrlSource.open(`${base}/cut`, fast);
    await expect(source.read(0, 1000)).rejects.toThrow(/\/cut: (the connection closed after 500 of 1000 bytes|server sent 500 bytes for a range of 1000)/);
  });
  it('a server lying about the file size', async () => {
    const source = await UrlSource.open(`${base}/liar`, fast);
    expect(source.size).toBe(100000);
    await expect(source.read(4000, 200)).rejects.toThrow(/\/liar: server sent 96 bytes for a range of 200 at offset 4000/);
  });
  it('a redirect loop is named as one', async () => {
    await expect(UrlSource.open(`${base}/loop`, fast)).rejects.toThrow(/\/loop: redirects too many times/);
  });
  it('a web page instead of the file (a missing file on a single-page app server)', async () => {
    await expect(UrlSource.open(`${base}/spa`, fast)).rejects.toThrow(/\/spa: the server answered with a web page .* the file is probably not there/);
  });
  it('Cancel stops a read that would wait for the server', async () => {
    const controller = new AbortController();
    const pending = UrlSource.open(`${base}/silent`, { stallTimeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });
});
