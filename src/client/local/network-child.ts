// pam_tandem's hybrid mode (`[tandem] offline_fallback = local`) when the helper runs as root:
// the whole network phase runs in a child process — this same helper bundle, started with
// `--network-phase` and the credentials of `_tandem` (setgroups([]), setgid, setuid: real,
// effective and saved ids) — while the parent keeps root only for the local code file check.
//
// Parent → child: the job (config, CA text, the login's inputs) as one JSON document on fd 3,
// then closed. The child speaks the helper side of the line protocol (pam/PROTOCOL.md) on its
// stdout and reads ANSWER/NOANSWER on its stdin; its stderr is the parent's (the launcher's log).
// The parent relays prompts and messages to the launcher, and takes the child's RESULT as the
// decision — except `RESULT deny offline-fallback` (the server was unreachable before any auth
// request), after which the parent runs the local check itself. Anything odd from the child — a
// bad line, SETAUTHTOK, no RESULT, a non-zero exit — is a deny.
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ClientConfig, ClientProgram } from '../config/types.js';
import { decodePayload, encodePayload, LineReader, ProtocolViolation, splitLine, type ProtocolWriter, type ResultWord } from '../line-protocol.js';
import type { ClientLogger } from '../log.js';
import type { LoginFlowInput } from '../login-flow.js';

/** The argument that makes the helper bundle run the network phase (pam-helper.ts). */
export const NETWORK_PHASE_ARG = '--network-phase';
/** The job document's upper bound (the config is at most 64 KiB, the CA bundle 1 MiB). */
export const MAX_JOB_BYTES = 2 * 1024 * 1024;
/** After its RESULT, how long the child may take to exit. */
const EXIT_WAIT_MS = 10_000;

export interface NetworkJob {
  config: ClientConfig;
  ca: string | null;
  mode: ClientProgram;
  debug: boolean;
  input: Omit<LoginFlowInput, 'config'>;
}

export interface NetworkChild {
  stdin: Writable;
  stdout: Readable;
  /** Resolves with the exit status (null when killed by a signal). */
  exited: Promise<number | null>;
  kill(): void;
}

/**
 * Starts `node <helper> --network-phase` as uid/gid (no supplementary groups, a bare
 * environment), writes the job to its fd 3 and closes it.
 */
export function spawnNetworkChild(job: NetworkJob, ids: { uid: number; gid: number }, paths: { node: string; helper: string } = { node: process.execPath, helper: process.argv[1]! }): NetworkChild {
  // libuv clears the supplementary groups (setgroups(0, NULL)) before setgid/setuid.
  const child = spawn(paths.node, [paths.helper, NETWORK_PHASE_ARG], {
    uid: ids.uid,
    gid: ids.gid,
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  const { stdin, stdout } = child;
  const jobPipe = child.stdio[3] as Writable | null;
  if (stdin === null || stdout === null || jobPipe === null) {
    child.kill('SIGKILL');
    throw new Error('network phase: the child has no pipes');
  }
  jobPipe.on('error', () => undefined);
  jobPipe.end(JSON.stringify(job));
  stdin.on('error', () => undefined);
  return {
    stdin,
    stdout,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** The child's end: the job from fd 3 (bounded), parsed. */
export async function readJob(input: Readable): Promise<NetworkJob> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of input) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    size += b.length;
    if (size > MAX_JOB_BYTES) throw new ProtocolViolation('network job too large');
    chunks.push(b);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as NetworkJob;
}

export type RelayResult = { result: ResultWord; reason: string };

const RESULT_WORDS: readonly string[] = ['success', 'deny', 'ignore'];

function timeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((r) => (t = setTimeout(() => r(fallback), ms)))]).finally(() => clearTimeout(t));
}

/**
 * Relays the child's conversation to the launcher (through `writer`) until its RESULT and exit.
 * The launcher's own protocol errors (from writer) propagate; the child's end in a deny.
 */
export async function relayNetworkChild(child: NetworkChild, writer: ProtocolWriter, log: ClientLogger): Promise<RelayResult> {
  const reader = new LineReader(child.stdout);
  const fail = (why: string): RelayResult => {
    log.log('error', 'network phase failed, login denied', { detail: why });
    return { result: 'deny', reason: 'network-phase' };
  };
  try {
    for (;;) {
      let verb: string;
      let text: string;
      try {
        const line = await reader.readLine();
        if (line === null) return fail('the child ended without RESULT');
        const s = splitLine(line);
        verb = s.verb;
        text = s.payload === null ? '' : decodePayload(s.payload);
        line.fill(0);
      } catch (e) {
        return fail(e instanceof Error ? e.message : 'bad line');
      }
      if (verb === 'PROMPT_OFF' || verb === 'PROMPT_ON') {
        const answer = await writer.prompt(verb === 'PROMPT_ON', text);
        child.stdin.write(answer === null ? 'NOANSWER\n' : `ANSWER ${encodePayload(answer)}\n`);
      } else if (verb === 'INFO') {
        await writer.info(text);
      } else if (verb === 'ERROR') {
        await writer.error(text);
      } else if (verb === 'RESULT') {
        const sp = text.indexOf(' ');
        const word = sp === -1 ? text : text.slice(0, sp);
        if (!RESULT_WORDS.includes(word)) return fail('a bad RESULT');
        child.stdin.end();
        const code = await timeout(child.exited, EXIT_WAIT_MS, null);
        if (code !== 0) return fail(`the child exited with ${code === null ? 'a signal or not in time' : `status ${code}`}`);
        return { result: word as ResultWord, reason: sp === -1 ? '' : text.slice(sp + 1) };
      } else {
        return fail(`unexpected ${verb.slice(0, 32)}`);
      }
    }
  } finally {
    reader.close();
    child.kill();
  }
}
