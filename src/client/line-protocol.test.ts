import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  LineReader,
  MAX_LINE_BYTES,
  ProtocolViolation,
  ProtocolWriter,
  decodePayload,
  encodePayload,
  formatLine,
  readRequest,
} from './line-protocol.js';

function readerOf(...chunks: Array<string | Buffer>): LineReader {
  const s = new PassThrough();
  const r = new LineReader(s);
  for (const c of chunks) s.write(c);
  s.end();
  return r;
}

async function violation(p: Promise<unknown>): Promise<ProtocolViolation> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolViolation);
    return e as ProtocolViolation;
  }
  throw new Error('expected a protocol violation');
}

describe('percent codec', () => {
  it.each([
    ['plain text', 'plain text'],
    ['100%', '100%25'],
    ['two\nlines', 'two%0Alines'],
    ['tab\tcr\r', 'tab%09cr%0D'],
    ['del\x7f', 'del%7F'],
    ['ünïcødé ✓', 'ünïcødé ✓'],
    ['', ''],
  ])('%j ↔ %j', (text, encoded) => {
    expect(encodePayload(text)).toBe(encoded);
    expect(decodePayload(encoded)).toBe(text);
  });

  it('round-trips every byte value', () => {
    const all = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
    const text = all.toString('latin1');
    expect(decodePayload(encodePayload(text))).toBe(text);
    expect([...Buffer.from(encodePayload(text))].some((b) => b < 0x20 || b === 0x7f)).toBe(false);
  });

  it('accepts lowercase hex, refuses bad escapes, raw controls and non-UTF-8', () => {
    expect(decodePayload('%0a')).toBe('\n');
    for (const bad of ['%', '%4', '%G0', 'a%zz', 'x\ty', 'x\x7fy']) expect(() => decodePayload(bad)).toThrow(ProtocolViolation);
    expect(() => decodePayload('%FF%FE')).toThrow(/UTF-8/);
  });
});

describe('LineReader', () => {
  it('splits lines across chunks', async () => {
    const r = readerOf('AB', 'C\nDE', 'F\n');
    expect((await r.readLine())?.toString()).toBe('ABC');
    expect((await r.readLine())?.toString()).toBe('DEF');
    expect(await r.readLine()).toBeNull();
  });

  it('a line of exactly 8192 bytes (newline included) passes; 8193 does not', async () => {
    const ok = 'x'.repeat(MAX_LINE_BYTES - 1) + '\n';
    expect((await readerOf(ok).readLine())?.length).toBe(MAX_LINE_BYTES - 1);
    await violation(readerOf('x'.repeat(MAX_LINE_BYTES) + '\n').readLine());
    await violation(readerOf('x'.repeat(100_000)).readLine());
  });

  it('EOF inside a line is a violation', async () => {
    expect((await violation(readerOf('partial').readLine())).kind).toBe('eof');
  });
});

const GOOD = ['TANDEM-PAM 1', 'ITEM user alice', 'ITEM service sshd', 'ITEM rhost 203.0.113.7', 'ITEM uid 0', 'ARG conf=/etc/security/pam_duo.conf', 'ARG debug', 'ENV SSH_CONNECTION 203.0.113.7 50022 192.0.2.5 22', 'AUTHTOK pass%25word', 'END', ''].join('\n');

describe('readRequest', () => {
  it('parses a full request', async () => {
    const req = await readRequest(readerOf(GOOD));
    expect(req.items).toEqual({ user: 'alice', service: 'sshd', rhost: '203.0.113.7', uid: '0' });
    expect(req.args).toEqual(['conf=/etc/security/pam_duo.conf', 'debug']);
    expect(req.env).toEqual({ SSH_CONNECTION: '203.0.113.7 50022 192.0.2.5 22' });
    expect(req.authtok?.toString()).toBe('pass%word');
  });

  it('values may be empty, contain spaces and encoded newlines', async () => {
    const req = await readRequest(readerOf('TANDEM-PAM 1\nITEM tty\nITEM user a b\nENV SUDO_COMMAND /bin/echo%0Ahi\nARG\nEND\n'));
    expect(req.items).toEqual({ tty: '', user: 'a b' });
    expect(req.env.SUDO_COMMAND).toBe('/bin/echo\nhi');
    expect(req.args).toEqual(['']);
  });

  it('a wrong first line is a version violation', async () => {
    expect((await violation(readRequest(readerOf('TANDEM-PAM 2\nEND\n')))).kind).toBe('version');
    expect((await violation(readRequest(readerOf('HELLO\n')))).kind).toBe('version');
  });

  it.each([
    ['unknown verb', 'FOO bar\nEND\n'],
    ['lowercase verb', 'item user x\nEND\n'],
    ['unknown ITEM', 'ITEM colour blue\nEND\n'],
    ['repeated ITEM', 'ITEM user a\nITEM user b\nEND\n'],
    ['ENV off the list', 'ENV LD_PRELOAD /tmp/x.so\nEND\n'],
    ['repeated ENV', 'ENV SUDO_USER a\nENV SUDO_USER b\nEND\n'],
    ['second AUTHTOK', 'AUTHTOK a\nAUTHTOK b\nEND\n'],
    ['bad escape', 'ITEM user a%2\nEND\n'],
    ['raw control', 'ITEM user a\tb\nEND\n'],
    ['NUL', 'ITEM user a\0b\nEND\n'],
    ['END with payload', 'END now\n'],
    ['EOF before END', 'ITEM user a\n'],
    ['ITEM without name', 'ITEM\nEND\n'],
    ['answer verbs in a request', 'ANSWER 123\nEND\n'],
  ])('%s', async (_name, body) => {
    await violation(readRequest(readerOf('TANDEM-PAM 1\n' + body)));
  });

  it('caps the number of ARG lines and of request lines', async () => {
    await violation(readRequest(readerOf('TANDEM-PAM 1\n' + 'ARG x\n'.repeat(65) + 'END\n')));
    expect((await readRequest(readerOf('TANDEM-PAM 1\n' + 'ARG x\n'.repeat(64) + 'END\n'))).args).toHaveLength(64);
  });
});

describe('writer', () => {
  it('formats lines with encoded payloads', () => {
    expect(formatLine('INFO', 'a\nb%').toString()).toBe('INFO a%0Ab%25\n');
    expect(formatLine('RESULT', 'success authenticated').toString()).toBe('RESULT success authenticated\n');
  });

  it('never writes a line over 8192 bytes, and never cuts an escape or a character', () => {
    for (const text of ['x'.repeat(20_000), '\n'.repeat(5000), 'é'.repeat(9000)]) {
      const line = formatLine('INFO', text);
      expect(line.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
      expect(line[line.length - 1]).toBe(0x0a);
      const payload = line.subarray(5, line.length - 1);
      expect(() => decodePayload(payload)).not.toThrow();
    }
  });

  it('prompt → ANSWER / NOANSWER; anything else is a violation', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const written: string[] = [];
    output.on('data', (c: Buffer) => written.push(c.toString()));
    const reader = new LineReader(input);
    const w = new ProtocolWriter(output, reader);
    input.write('ANSWER 12%0A3\nNOANSWER\nANSWER\nINFO x\n');
    expect(await w.prompt(true, 'Passcode or option (1-3): ')).toBe('12\n3');
    expect(await w.prompt(false, 'p')).toBeNull();
    expect(await w.prompt(false, 'p')).toBe('');
    await violation(w.prompt(false, 'p'));
    await w.result('deny', 'bad reason!');
    expect(written.join('')).toBe('PROMPT_ON Passcode or option (1-3): \nPROMPT_OFF p\nPROMPT_OFF p\nPROMPT_OFF p\nRESULT deny bad-reason-\n');
    input.end();
    await violation(w.prompt(true, 'again'));
  });
});
