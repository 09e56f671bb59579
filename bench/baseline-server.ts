// The benchmark's baseline: a bare Fastify 5 hello-world over HTTPS with Tandem's own server key
// and certificate, run as a child process like `tandem serve`.
//   node dist/bench-baseline.mjs --key FILE --cert FILE [--listen 127.0.0.1:0]
// Prints "listening on https://…" once ready; stops on SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) {
    process.stderr.write(`bench-baseline: ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const listen = arg('--listen', '127.0.0.1:0');
const m = listen.match(/^(127\.\d+\.\d+\.\d+|\[::1\]):(\d+)$/);
if (!m) {
  process.stderr.write(`bench-baseline: listens on loopback only, not ${listen}\n`);
  process.exit(2);
}
const host = m[1]!.replace(/^\[|\]$/g, '');
const app = Fastify({ logger: false, https: { key: readFileSync(arg('--key'), 'utf8'), cert: readFileSync(arg('--cert'), 'utf8') } });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host, port: Number(m[2]) });
const { port } = app.server.address() as { port: number };
process.stdout.write(`baseline listening on https://${host.includes(':') ? `[${host}]` : host}:${port}\n`);

const stop = (): void => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
