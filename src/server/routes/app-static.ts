// Serves the Tandem Authenticator (the web app built into dist/web/app by scripts/build.mjs) at
// /app/. A fixed allow-list of files is read into memory once, at startup: nothing a request
// names is ever turned into a filesystem path, so there is nothing to traverse. Every answer
// carries the app's strict CSP (ARCHITECTURE §5: the app shows strings from Unix hosts).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/deps.js';

export const APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The built files, by name under /app/, and their Content-Type. */
export const APP_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'sw.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'manifest.webmanifest': 'application/manifest+json; charset=utf-8',
  'icon.svg': 'image/svg+xml',
  'icon-192.png': 'image/png',
  'icon-512.png': 'image/png',
};

interface AppFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** dist/web/app of the package this code runs from (source in src/server/routes, or the dist/ bundle). */
export function appDistDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'tandem') return join(dir, 'dist', 'web', 'app');
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) return join(process.cwd(), 'dist', 'web', 'app');
    dir = up;
  }
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('Content-Security-Policy', APP_CSP).header('X-Content-Type-Options', 'nosniff').header('Referrer-Policy', 'no-referrer');
}

function loadFiles(dir: string): Map<string, AppFile> {
  const files = new Map<string, AppFile>();
  for (const [name, type] of Object.entries(APP_FILES)) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    const body = readFileSync(path);
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return files;
}

export function registerAppStatic(app: FastifyInstance, opts: { dir: string; log?: Pick<Logger, 'warn'> }): void {
  const files = loadFiles(opts.dir);
  const built = files.has('index.html');
  if (!built) opts.log?.warn('the Tandem Authenticator web app is not built; /app answers 404 (run "npm run build")', { dir: opts.dir });

  const notFound = (reply: FastifyReply, message: string): FastifyReply =>
    securityHeaders(reply).code(404).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(JSON.stringify({ error: 'not_found', message }));

  const send = (request: FastifyRequest, reply: FastifyReply, name: string): FastifyReply => {
    const file = files.get(name);
    if (!file) return notFound(reply, built ? 'no such file' : 'app not built');
    // no-cache on every file (names carry no content hash): a new build is picked up at once,
    // and the ETag makes the revalidation cheap.
    securityHeaders(reply).header('ETag', file.etag).header('Cache-Control', 'no-cache');
    if (name === 'sw.js') reply.header('Service-Worker-Allowed', '/app/');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.code(200).type(file.type).send(file.body);
  };

  app.get('/app', (_request, reply) => securityHeaders(reply).header('Cache-Control', 'no-cache').redirect('/app/', 301));
  app.get('/app/', (request, reply) => send(request, reply, 'index.html'));
  app.get('/app/*', (request, reply) => {
    // The raw path, not a decoded parameter: only the exact names of the allow-list match.
    const path = (request.raw.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/app/api/')) return reply.callNotFound();
    const name = path.slice('/app/'.length);
    return Object.hasOwn(APP_FILES, name) ? send(request, reply, name) : notFound(reply, built ? 'no such file' : 'app not built');
  });
}
