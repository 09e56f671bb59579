// BSON response bodies for duo_unix ≤ 1.11 (/rest/v1/*.bson; Debian 12 and Ubuntu ship 1.11.3).
// The client insists on types (duo_unix.md §3.3): `stat` a string, `response` an embedded
// document, `code` an int32 (0x10). bson serialises JS integers within int32 range as int32, so
// the envelope is checked here rather than trusted.
import { serialize } from 'bson';

export type BsonValue = string | number | boolean | null | BsonDoc;
export interface BsonDoc {
  [key: string]: BsonValue | undefined;
}

export function encodeBson(doc: BsonDoc): Buffer {
  if (typeof doc['code'] === 'number' && !Number.isInteger(doc['code'])) throw new TypeError('a Duo error code must be an integer');
  return Buffer.from(serialize(doc, { ignoreUndefined: true }));
}
