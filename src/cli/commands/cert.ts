// `tandem cert …`: the server's TLS certificate. Stock duo_unix 1.11.3 compares the configured
// `host` with the certificate's DNS names exactly (case-sensitively, IP hosts included), so these
// commands show those names verbatim and can reissue the certificate with new ones. The site CA,
// which every client has as its cafile, is never changed here.
import { existsSync, readFileSync } from 'node:fs';
import { dataPaths } from '../../config/data-dir.js';
import { certificateInfo, isIssuedBy } from '../../core/pki.js';
import { reissueServerCert } from '../../server/bootstrap.js';
import { systemRandom } from '../../server/runtime.js';
import type { CommandDef } from '../args.js';
import { CliError } from '../io.js';
import { keyValues, safe, when } from '../output.js';

const RESTART = 'A running tandem serve keeps using the old certificate: restart it to serve the new one.';

const list = (xs: readonly string[]): string => (xs.length === 0 ? '-' : xs.map(safe).join(', '));

export const certCommands: CommandDef[] = [
  {
    path: ['cert', 'show'],
    summary: 'Show the server certificate: its host names, IPs and validity, and the CA clients need as cafile',
    async run(ctx) {
      const paths = dataPaths(ctx.dataDir(), ctx.io.env);
      if (!existsSync(paths.serverCert)) throw new CliError(`no server certificate at ${paths.serverCert}; run tandem init first`);
      const pem = readFileSync(paths.serverCert, 'utf8');
      let info;
      try {
        info = certificateInfo(pem);
      } catch (e) {
        throw new CliError(`cannot read the certificate in ${paths.serverCert}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const fromSiteCa = existsSync(paths.caCert) && (await isIssuedBy(pem, readFileSync(paths.caCert, 'utf8')));
      if (ctx.json) {
        ctx.printJson({
          serverCert: paths.serverCert,
          hosts: info.hosts,
          ips: info.ips,
          notBefore: info.notBefore.toISOString(),
          notAfter: info.notAfter.toISOString(),
          cafile: paths.caCert,
          issuedBySiteCa: fromSiteCa,
        });
        return 0;
      }
      ctx.out(keyValues([
        ['certificate', paths.serverCert],
        ['host names', list(info.hosts)],
        ['IP addresses', list(info.ips)],
        ['not before', when(info.notBefore.getTime())],
        ['not after', when(info.notAfter.getTime())],
        ['cafile', fromSiteCa ? paths.caCert : `${paths.caCert} (did NOT issue this certificate)`],
      ]));
      ctx.out();
      ctx.out('A client\'s "host =" name must equal one of the host names exactly, case included (duo_unix 1.11.3 checks');
      ctx.out('only these). Add names with: tandem cert reissue --host NAME');
      return 0;
    },
  },
  {
    path: ['cert', 'reissue'],
    summary: 'Issue a new server certificate from the existing site CA (the CA and the master key stay)',
    details: [
      'With --host, the configured host list is replaced first, as init --host does (localhost is always',
      'kept). Clients need no change: they trust the site CA. A running server must be restarted to use it.',
    ],
    flags: [
      {
        name: 'host', kind: 'string', value: 'NAME', multiple: true,
        description: 'host name or IP clients use for this server; replaces the stored list (localhost is always added)',
      },
    ],
    async run(ctx) {
      const hosts = ctx.list('host');
      const r = await reissueServerCert({ dataDir: ctx.dataDir(), env: ctx.io.env, ...(hosts.length > 0 ? { hosts } : {}), random: systemRandom, now: new Date() });
      if (ctx.json) {
        for (const n of r.notes) ctx.io.stderr.write(`tandem: note: ${n}\n`);
        ctx.printJson({ hosts: r.info.hosts, ips: r.info.ips, notAfter: r.info.notAfter.toISOString(), serverCert: r.paths.serverCert });
        return 0;
      }
      ctx.out(`New server certificate ${r.paths.serverCert}, from the site CA ${r.paths.caCert} (unchanged).`);
      ctx.out(keyValues([
        ['host names', list(r.info.hosts)],
        ['IP addresses', list(r.info.ips)],
        ['expires', when(r.info.notAfter.getTime())],
      ]));
      for (const n of r.notes) ctx.out(`note: ${n}`);
      ctx.out();
      ctx.out(RESTART);
      return 0;
    },
  },
];
