// `tandem client install`: puts Tandem's own Unix clients in place on this host — the dedicated
// account the helper runs as, the bundled helper, pam_tandem.so in the distribution's PAM module
// directory, the setuid-root login_tandem, and config templates that are never overwritten. It
// never edits /etc/pam.d or sshd_config: it prints the lines to add (the README has the same).
// The artifacts come from this package (`npm run build`, which bundles the helper, and
// `make -C pam`, which builds the C pieces), found relative to the package root as bin/tandem.mjs
// finds dist/.
// The pieces live in src/cli/client-install/: layout.ts (paths, artifacts), templates.ts (config
// templates, next-step lines) and plan.ts (the plan and carrying it out); this file holds the
// command definition.
import { isAbsolute, resolve } from 'node:path';
import type { CommandDef } from '../args.js';
import { buildMismatches, CLIENT_ACCOUNT, detectPamModuleDir, HELPER_DIR, LOGIN_CONF_PATH, LOGIN_TANDEM_PATH, PAM_CONF_PATH, packageRoot } from '../client-install/layout.js';
import { describeStep, lookupAccount, octal, planInstall, runStep } from '../client-install/plan.js';
import { nextStepsText } from '../client-install/templates.js';
import { CliError } from '../io.js';

export const clientCommands: CommandDef[] = [
  {
    path: ['client', 'install'],
    summary: 'Install pam_tandem.so, login_tandem (setuid root), their helper and config templates on this host',
    details: [
      `Creates the system account ${CLIENT_ACCOUNT} if missing, installs the helper in ${HELPER_DIR}, pam_tandem.so`,
      `in the PAM module directory, login_tandem as ${LOGIN_TANDEM_PATH} (mode 4755), and config templates`,
      `${PAM_CONF_PATH} (root) and ${LOGIN_CONF_PATH} (${CLIENT_ACCOUNT}), mode 0600, only where none exists.`,
      'It never edits /etc/pam.d or sshd_config: it prints the lines to add. Needs root (except --dry-run)',
      'and the build artifacts (npm run build).',
    ],
    flags: [
      { name: 'dry-run', kind: 'boolean', description: 'print the steps without doing anything' },
      { name: 'prefix', kind: 'string', value: 'DIR', description: 'install under DIR instead of / (the account is still created)' },
    ],
    async run(ctx) {
      const dryRun = ctx.bool('dry-run');
      const prefixFlag = ctx.str('prefix');
      const prefix = prefixFlag === undefined ? '' : resolve(ctx.io.cwd, prefixFlag);
      if (prefix !== '' && (!isAbsolute(prefix) || prefix === '/')) throw new CliError(`--prefix must name a directory other than / (got ${prefixFlag})`);
      if (!dryRun && process.getuid?.() !== 0) throw new CliError('tandem client install must run as root (try --dry-run to see what it would do)');

      const root = packageRoot();
      const plan = planInstall({ root, prefix, pamModuleDir: detectPamModuleDir(), accountExists: lookupAccount(CLIENT_ACCOUNT) !== null });
      const next = nextStepsText(plan.paths);
      const warnings = buildMismatches(root);
      if (!dryRun) for (const s of plan.steps) runStep(s);

      if (ctx.json) {
        ctx.printJson({
          dryRun,
          prefix: prefix === '' ? null : prefix,
          steps: plan.steps.map((s) => ({ ...s, ...(s.mode === undefined ? {} : { mode: octal(s.mode) }) })),
          paths: plan.paths,
          warnings,
          next,
        });
        for (const w of warnings) ctx.io.stderr.write(`tandem: warning: ${w}\n`);
        return 0;
      }
      for (const w of warnings) ctx.io.stderr.write(`tandem: warning: ${w}\n`);
      ctx.out(dryRun ? 'Dry run: these steps would be taken (nothing was changed):' : 'Done:');
      for (const s of plan.steps) ctx.out(`  ${describeStep(s)}`);
      ctx.out();
      ctx.out(next);
      return 0;
    },
  },
];
