// Sensitive actions (deleting a user, rotating an skey) need the admin's password and a current
// code entered within consoleReauthSeconds: either recently (sign-in counts) or in the same form.
import { checkAdminCredentials } from '../../core/admins.js';
import { markReauth, reauthFresh } from '../../core/admin-sessions.js';
import { ConsoleRefusal, field } from './form.js';
import type { Signed } from './session.js';

export async function requireReauth(s: Signed): Promise<void> {
  if (reauthFresh(s.deps, s.session)) return;
  const password = field(s.form, 'reauth_password');
  const code = field(s.form, 'reauth_code');
  if (password !== '' || code !== '') {
    const ok = await checkAdminCredentials(s.deps, { name: s.session.admin.name, password, code, peer: s.peer, purpose: 'reauth' });
    if (ok && ok.id === s.session.admin.id) {
      await markReauth(s.deps, s.session);
      return;
    }
    throw new ConsoleRefusal(403, 'Confirmation failed: this action needs your password and a current code.');
  }
  throw new ConsoleRefusal(403, 'This action needs your password and a current code: enter them with it.');
}
