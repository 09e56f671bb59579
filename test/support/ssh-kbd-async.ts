// An ssh2 keyboard-interactive login whose answers may take time, as a person's do: the
// verification-code prompt stays open while the test types the number into the app, and Enter is
// pressed only afterwards. Same result shape as sshLogin (test/support/sshd.ts). Loopback only;
// bounded by `timeoutMs` for the whole exchange; never throws for a refused login.
import { Client } from 'ssh2';
import type { KbdRound, RunningSshd, SshLoginResult } from './sshd.js';

export function sshLoginAsync(o: {
  sshd: Pick<RunningSshd, 'port' | 'hostKey'>;
  username: string;
  /** The answer to one prompt; may wait (e.g. for the test to act in the browser first). */
  answer: (prompt: string, round: number) => string | Promise<string>;
  command: string;
  timeoutMs?: number;
}): Promise<SshLoginResult> {
  const t0 = Date.now();
  const rounds: KbdRound[] = [];
  const timeoutMs = o.timeoutMs ?? 40_000;
  return new Promise((resolve) => {
    const conn = new Client();
    let done = false;
    const finish = (r: Omit<SshLoginResult, 'rounds' | 'ms'>): void => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      conn.end();
      resolve({ ...r, rounds, ms: Date.now() - t0 });
    };
    const overall = setTimeout(() => finish({ ok: false, error: `no result within ${timeoutMs} ms`, stdout: '', exitCode: null }), timeoutMs);
    conn.on('keyboard-interactive', (name, instructions, _lang, prompts, answerAll) => {
      const round = rounds.length + 1;
      const entry: KbdRound = { name, instructions, prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo ?? false })), answers: [] };
      rounds.push(entry);
      Promise.all(prompts.map((p) => o.answer(p.prompt, round))).then(
        (answers) => {
          entry.answers = answers;
          if (!done) answerAll(answers);
        },
        (e: unknown) => finish({ ok: false, error: `answering round ${round} failed: ${e instanceof Error ? e.message : String(e)}`, stdout: '', exitCode: null }),
      );
    });
    conn.on('error', (err) => finish({ ok: false, error: err.message, stdout: '', exitCode: null }));
    conn.on('close', () => finish({ ok: false, error: 'connection closed', stdout: '', exitCode: null }));
    conn.on('ready', () => {
      conn.exec(o.command, (err, stream) => {
        if (err) return finish({ ok: true, error: `exec failed: ${err.message}`, stdout: '', exitCode: null });
        let stdout = '';
        let exitCode: number | null = null;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', () => undefined);
        stream.on('exit', (code: number | null) => (exitCode = code));
        stream.on('close', () => finish({ ok: true, stdout, exitCode }));
      });
    });
    conn.connect({
      host: '127.0.0.1',
      port: o.sshd.port,
      username: o.username,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      // Covers the whole authentication, answers included.
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => key.equals(o.sshd.hostKey),
    });
  });
}
