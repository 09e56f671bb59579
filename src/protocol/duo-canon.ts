// Duo's parameter canonicalisation (duo_api.md §1.3): the OAuth 1.0 normalisation of RFC 5849
// §3.4.1.3.2, as implemented by every official client.

// Byte → its canonical text, computed once: signature checks run on every request.
const ENCODED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  const ch = String.fromCharCode(byte);
  return /^[A-Za-z0-9\-._~]$/.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
});

/**
 * RFC 3986 §2.3 unreserved characters stay literal; every other UTF-8 byte becomes %XX with
 * uppercase hex (space is %20, never '+'). Python's quote(s, '~'), Go's canonParams and Node's
 * duo_sig all produce this.
 */
export function duoEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) out += ENCODED_BYTE[byte]!;
  return out;
}

/**
 * Encode each key and value, sort by encoded key then encoded value (Python, Go and duo_unix sort
 * repeated values too), join as k=v with '&'. Encoded text is ASCII, so JS string order is byte
 * order. No parameters gives ''.
 */
export function canonicalizeParams(pairs: ReadonlyArray<readonly [string, string]>): string {
  const encoded = pairs.map(([k, v]) => [duoEncode(k), duoEncode(v)] as const);
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([k, v]) => `${k}=${v}`).join('&');
}
