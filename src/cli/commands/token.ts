// `tandem token …`: TOTP/HOTP tokens. Imported seeds come from a file or standard input, never
// from the command line (where `ps` and shell history would see them).
import QRCode from 'qrcode';
import { addToken, listTokens, removeToken, resyncToken, type TokenOptions } from '../../core/tokens.js';
import type { OtpAlgorithm, TokenType } from '../../store/contract.js';
import type { CommandDef } from '../args.js';
import { readFileLimited, readInput } from '../io.js';
import { cell, safe, table, when } from '../output.js';
import { parseSeed } from '../parse-seed.js';
import type { CommandContext } from '../context.js';

const USER = { name: 'USER', description: 'username or alias' } as const;
/** A seed file is one short line; anything much larger is the wrong file. */
const MAX_SEED_FILE_BYTES = 4096;

async function readSeed(ctx: CommandContext, source: string): Promise<Buffer> {
  let raw: Buffer;
  if (source === '-') {
    const stdin = ctx.io.stdin;
    if (typeof stdin === 'object' && !Buffer.isBuffer(stdin) && stdin.isTTY) ctx.io.stderr.write('Paste the seed (base32 or hex:…), then press Enter and Ctrl-D:\n');
    raw = await readInput(stdin, MAX_SEED_FILE_BYTES, 'standard input');
  } else {
    raw = await readFileLimited(source, MAX_SEED_FILE_BYTES, 'secret file');
  }
  try {
    return parseSeed(raw, source === '-' ? 'standard input' : `secret file ${source}`);
  } finally {
    raw.fill(0);
  }
}

export const tokenCommands: CommandDef[] = [
  {
    path: ['token', 'add'],
    summary: 'Add a TOTP or HOTP token to a user and show its otpauth:// URI and QR code',
    details: [
      'The seed is generated unless --secret-file names a file (or - for standard input) holding',
      'it as base32 (spaces and lower case are fine) or as hex:… . With --json only',
      '{"otpauth", "secret"} is printed.',
    ],
    args: [USER],
    flags: [
      { name: 'type', kind: 'string', value: 'TYPE', required: true, choices: ['totp', 'hotp'], description: 'time-based (TOTP) or counter-based (HOTP)' },
      { name: 'secret-file', kind: 'string', value: 'FILE|-', description: 'import the seed from FILE, or from standard input with -' },
      { name: 'digits', kind: 'int', value: 'N', choices: ['6', '8'], description: 'code length (default 6)' },
      { name: 'algorithm', kind: 'string', value: 'ALG', choices: ['sha1', 'sha256', 'sha512'], description: 'HMAC algorithm (default sha1)' },
      { name: 'period', kind: 'int', value: 'SECONDS', min: 1, max: 300, description: 'TOTP time step (default 30)' },
      { name: 'counter', kind: 'int', value: 'N', min: 0, description: 'HOTP: the next counter value (default 0)' },
    ],
    async run(ctx) {
      const type = ctx.str('type') as TokenType;
      const file = ctx.str('secret-file');
      const secret = file !== undefined ? await readSeed(ctx, file) : undefined;
      const digits = ctx.int('digits') as 6 | 8 | undefined;
      const algorithm = ctx.str('algorithm') as OtpAlgorithm | undefined;
      const period = ctx.int('period');
      const counter = ctx.int('counter');
      const opts: TokenOptions = {
        type,
        ...(secret ? { secret } : {}),
        ...(digits !== undefined ? { digits } : {}),
        ...(algorithm !== undefined ? { algorithm } : {}),
        ...(period !== undefined ? { period } : {}),
        ...(counter !== undefined ? { counter } : {}),
      };
      try {
        return await ctx.withRuntime(async ({ deps }) => {
          const r = await addToken(deps, ctx.args.USER!, opts);
          if (ctx.json) return void ctx.printJson({ otpauth: r.otpauth, secret: r.secret });
          const t = r.token;
          ctx.out(`Token ${t.tokenId} added for ${safe(ctx.args.USER!)}: ${t.type.toUpperCase()}, ${t.digits} digits, ${t.algorithm.toUpperCase()}${t.period !== null ? `, ${t.period} s` : ''}.`);
          ctx.out();
          ctx.out(r.otpauth);
          ctx.out();
          ctx.out(await QRCode.toString(r.otpauth, { type: 'terminal', small: true }));
          ctx.out(`Scan the QR code with an authenticator app, or enter the secret by hand: ${r.secret}`);
        });
      } finally {
        secret?.fill(0);
      }
    },
  },
  {
    path: ['token', 'list'],
    summary: 'List a user\'s tokens (never their seeds)',
    args: [USER],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const tokens = await listTokens(deps, ctx.args.USER!);
        if (ctx.json) return void ctx.printJson(tokens);
        if (tokens.length === 0) return void ctx.out(`${safe(ctx.args.USER!)} has no tokens.`);
        ctx.out(table(
          ['TOKEN ID', 'TYPE', 'DIGITS', 'ALGORITHM', 'PERIOD', 'CREATED'],
          tokens.map((t) => [t.tokenId, t.type, String(t.digits), t.algorithm, cell(t.period), when(t.createdAt)]),
        ));
      });
    },
  },
  {
    path: ['token', 'remove'],
    summary: 'Remove one of a user\'s tokens',
    args: [USER, { name: 'TOKEN_ID', description: 'the token id (DH…) from token list' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        await removeToken(deps, ctx.args.USER!, ctx.args.TOKEN_ID!);
        if (ctx.json) return void ctx.printJson({ removed: ctx.args.TOKEN_ID });
        ctx.out(`Token ${safe(ctx.args.TOKEN_ID!)} removed from ${safe(ctx.args.USER!)}.`);
      });
    },
  },
  {
    path: ['token', 'resync'],
    summary: 'Resynchronise a user\'s HOTP token from two consecutive codes',
    args: [USER, { name: 'CODE1', description: 'a code from the token' }, { name: 'CODE2', description: 'the code right after it' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const r = await resyncToken(deps, ctx.args.USER!, ctx.args.CODE1!, ctx.args.CODE2!);
        if (ctx.json) return void ctx.printJson({ resynced: r.tokenId });
        ctx.out(`Token ${r.tokenId} of ${safe(ctx.args.USER!)} resynchronised.`);
      });
    },
  },
];
