// `tandem init`: create or refresh the data directory (idempotent) and say what to do next.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataPaths } from '../../config/data-dir.js';
import { ensureDataDir } from '../../server/bootstrap.js';
import { systemRandom } from '../../server/runtime.js';
import type { CommandDef } from '../args.js';

const LABELS: Record<keyof DataPaths, string> = {
  dir: 'data directory',
  config: 'configuration',
  sqlite: 'database',
  masterKey: 'master key (keep it out of database backups)',
  caCert: 'site CA certificate (clients\' cafile)',
  caKey: 'site CA key',
  serverCert: 'server certificate',
  serverKey: 'server key',
};

export const initCommand: CommandDef = {
  path: ['init'],
  summary: 'Create or refresh the data directory: configuration, master key, site CA, server certificate, database',
  details: [
    'Safe to run again: existing keys and the CA are reused; the server certificate is reissued only',
    'when a host name is added, it is about to expire, or its key is missing.',
  ],
  flags: [
    {
      name: 'host', kind: 'string', value: 'NAME', multiple: true,
      description: 'host name or IP clients use for this server; replaces the stored list (localhost is always added)',
    },
  ],
  async run(ctx) {
    const dataDir = ctx.dataDir();
    const hosts = ctx.list('host');
    const r = await ensureDataDir({ dataDir, env: ctx.io.env, ...(hosts.length > 0 ? { hosts } : {}), random: systemRandom, now: new Date() });
    const created = [...r.created];
    // Opening the runtime creates and migrates the database, so a broken database shows up now
    // rather than at the first `serve`.
    const sqliteBefore = r.settings.databaseUrl === null ? existsSync(r.paths.sqlite) : true;
    await ctx.withRuntime(async () => undefined);
    if (!sqliteBefore) created.push(r.paths.sqlite);

    const keys = (Object.keys(LABELS) as (keyof DataPaths)[]).filter((k) => k !== 'sqlite' || r.settings.databaseUrl === null);
    const status = (p: string): 'created' | 'updated' | 'reused' => (created.includes(p) ? 'created' : r.updated.includes(p) ? 'updated' : 'reused');
    // Repeat --data in the suggestions when it was given or the directory is not the default.
    const dataFlag = ctx.str('data') === undefined && resolve(ctx.io.cwd, 'data') === r.paths.dir ? '' : ` --data ${quoteArg(r.paths.dir)}`;
    const next = `tandem serve${dataFlag}`;

    if (ctx.json) {
      ctx.printJson({
        dataDir: r.paths.dir,
        created,
        updated: r.updated,
        reused: keys.map((k) => r.paths[k]).filter((p) => status(p) === 'reused'),
        notes: r.notes,
        hosts: r.settings.hosts,
        cafile: r.paths.caCert,
        next,
      });
      return 0;
    }
    const width = Math.max(...keys.map((k) => r.paths[k].length));
    for (const k of keys) ctx.out(`  ${status(r.paths[k]).padEnd(7)}  ${r.paths[k].padEnd(width)}  ${LABELS[k]}`);
    if (r.settings.databaseUrl !== null) ctx.out(`  using    PostgreSQL (databaseUrl)`);
    for (const n of r.notes) ctx.out(`note: ${n}`);
    ctx.out();
    ctx.out(`API host names: ${r.settings.hosts.join(', ')}`);
    ctx.out(`Clients trust this server with: cafile = ${r.paths.caCert}`);
    ctx.out(`Next: ${next}`);
    ctx.out(`Then: tandem integration create --name NAME${dataFlag}   (prints a ready-to-paste client config)`);
    return 0;
  },
};

/** A path as a shell word (quoted only when needed). */
function quoteArg(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
