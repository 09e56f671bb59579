// Writing Duo envelopes. The body format follows the path: duo_unix ≤ 1.11 reads BSON from
// /rest/v1/*.bson and treats anything else as "invalid BSON response" — which its default
// failmode=safe turns into a successful login — so every answer on those paths, errors included,
// is BSON. Everything else is JSON.
import type { FastifyReply } from 'fastify';
import { encodeBson, type BsonDoc } from '../protocol/duo-bson.js';

export interface WireAnswer {
  http: number;
  body: unknown;
  retryAfter?: number;
}

export function wantsBson(rawUrl: string | undefined): boolean {
  return (rawUrl ?? '').split('?')[0]!.endsWith('.bson');
}

export function sendAnswer(reply: FastifyReply, a: WireAnswer): FastifyReply {
  if (a.retryAfter !== undefined) reply.header('Retry-After', String(a.retryAfter));
  reply.code(a.http);
  if (wantsBson(reply.request.raw.url)) return reply.type('application/bson').send(encodeBson(a.body as BsonDoc));
  return reply.type('application/json').send(a.body);
}

export function sendOk(reply: FastifyReply, response: unknown): FastifyReply {
  return sendAnswer(reply, { http: 200, body: { stat: 'OK', response } });
}
