// An imported TOTP/HOTP seed as operators have it: base32 (any case, spaces or dashes between
// groups, optional padding) or `hex:` followed by hex digits. Messages never quote the input.
import { base32Decode } from '../protocol/base32.js';
import { ProtocolError } from '../protocol/errors.js';
import { CliError } from './io.js';

export function parseSeed(raw: Buffer, where: string): Buffer {
  // The trailing newline (from `echo` or an editor) and surrounding blanks are not part of it.
  const text = raw.toString('utf8').trim();
  try {
    if (text === '') throw new CliError(`${where} is empty; expected a base32 seed or hex:…`);
    if (/[\r\n]/.test(text)) throw new CliError(`${where} has more than one line; expected only the seed (base32 or hex:…)`);
    if (/^hex:/i.test(text)) {
      const hex = text.slice(4).replace(/[ :]/g, '');
      if (hex === '' || !/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new CliError(`${where}: the seed after "hex:" is not an even number of hex digits`);
      return Buffer.from(hex, 'hex');
    }
    const seed = base32Decode(text);
    if (seed.length === 0) throw new CliError(`${where}: the seed is empty`);
    return seed;
  } catch (e) {
    if (e instanceof ProtocolError) throw new CliError(`${where}: the seed is not valid base32 (${e.message}); give base32 or hex:…`);
    throw e;
  }
}
