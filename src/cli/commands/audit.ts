// `tandem audit verify`: walk every node's hash chain; exit 1 naming the first broken entry.
import { verifyAudit } from '../../core/audit.js';
import type { CommandDef } from '../args.js';
import { safe } from '../output.js';

export const auditVerifyCommand: CommandDef = {
  path: ['audit', 'verify'],
  summary: 'Check the audit log\'s hash chains; exits 1 if any entry was altered or removed',
  details: [
    'A chain truncated at its tail still verifies: compare each head with the last',
    '"audit chain head" line in the server log.',
  ],
  async run(ctx) {
    return ctx.withRuntime(async ({ deps }) => {
      const v = await verifyAudit(deps);
      if (ctx.json) {
        ctx.printJson(v);
        return v.ok ? 0 : 1;
      }
      if (v.chains.length === 0) ctx.out('The audit log is empty.');
      for (const c of v.chains) ctx.out(`chain ${safe(c.nodeId)}: ${c.entries} verified entr${c.entries === 1 ? 'y' : 'ies'}, head seq ${c.headSeq} hash ${c.headHash}`);
      if (v.broken) {
        ctx.out(`BROKEN: node ${safe(v.broken.nodeId)}, entry seq ${v.broken.seq}: ${v.broken.problem}`);
        return 1;
      }
      ctx.out(`OK: ${v.chains.length} chain${v.chains.length === 1 ? '' : 's'} intact.`);
      return 0;
    });
  },
};
