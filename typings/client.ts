// The browser entry's schemas infer the types a page works with, whether the app writes its own
// schemas with classic zod or with zod/mini (the exported ones are zod core schemas: both nest them).
import type { messagesFromHeader } from 'koa-messages/client';
import {
  type AjaxResponse,
  ajaxResponseSchema,
  type LevelName,
  levelNameSchema,
  messageSchema,
  messagesEventDetailSchema,
  messagesHeaderSchema,
  onMessages,
  type WireMessage,
} from 'koa-messages/client';
import { z } from 'zod';
import * as zm from 'zod/mini';

import { assertType, type Equal } from './equal.js';

// Classic zod: the result is a classic object, with its methods.
const Vote = ajaxResponseSchema(z.object({ votes: z.number() }));
type Vote = z.infer<typeof Vote>;
assertType<Equal<Vote['votes'], number>>();
assertType<Equal<Vote['success'], boolean | undefined>>();
assertType<Equal<Vote['messages'], { message: string; tags: string }[] | undefined>>();
assertType<Equal<ReturnType<typeof Vote.parse>, Vote>>();
const picked = Vote.pick({ votes: true });
assertType<Equal<z.infer<typeof picked>, { votes: number }>>();

// zod/mini: a mini object, the same inferred type.
const MiniVote = ajaxResponseSchema(zm.object({ votes: zm.number() }));
type MiniVote = zm.infer<typeof MiniVote>;
assertType<Equal<MiniVote, Vote>>();
assertType<Equal<ReturnType<typeof MiniVote.parse>, Vote>>();
// @ts-expect-error: a mini object has no classic methods
MiniVote.pick({ votes: true }); // eslint-disable-line @typescript-eslint/no-unsafe-call -- the error under test

// The data's own `success` or `messages` key is replaced by the envelope's.
const Own = ajaxResponseSchema(z.object({ success: z.string(), n: z.number() }));
assertType<Equal<z.infer<typeof Own>['success'], boolean | undefined>>();

// Without a data schema: any keys, parsed with either flavour's parse().
const loose = z.parse(ajaxResponseSchema(), {});
assertType<Equal<typeof loose.success, boolean | undefined>>();
const looseMini = zm.parse(ajaxResponseSchema(), {});
assertType<Equal<typeof looseMini.messages, WireMessage[] | undefined>>();

assertType<Equal<z.infer<typeof levelNameSchema>, LevelName>>();
assertType<Equal<zm.infer<typeof levelNameSchema>, LevelName>>();
assertType<Equal<LevelName, 'debug' | 'info' | 'success' | 'warning' | 'error'>>();
assertType<Equal<AjaxResponse<{ votes: number }>['messages'], WireMessage[] | undefined>>();
assertType<Equal<z.infer<typeof messageSchema>, WireMessage>>();
assertType<Equal<z.input<typeof messageSchema>, WireMessage>>();
assertType<Equal<WireMessage, { message: string; tags: string }>>();

// The exported schemas as fields of the app's own objects, in both flavours.
const Page = z.object({ first: messageSchema, level: levelNameSchema });
assertType<Equal<z.infer<typeof Page>, { first: WireMessage; level: LevelName }>>();
const MiniPage = zm.object({ first: messageSchema, level: levelNameSchema });
assertType<Equal<zm.infer<typeof MiniPage>, { first: WireMessage; level: LevelName }>>();

// @ts-expect-error: only z.object() data schemas
ajaxResponseSchema(z.string());
// @ts-expect-error: only z.object() data schemas, in zod/mini too
ajaxResponseSchema(zm.string());

// The header transports: the same message shape in HX-Trigger's `messages` event and X-Messages.
const header = z.parse(messagesHeaderSchema, { messages: [{ message: 'Hi', tags: 'info' }] });
assertType<Equal<typeof header.messages, WireMessage[]>>();
const detail = zm.parse(messagesEventDetailSchema, { value: [{ message: 'Hi', tags: 'info' }] });
assertType<Equal<typeof detail.value, WireMessage[]>>();
const stop: () => void = onMessages((list: WireMessage[]) => void list);
stop();
assertType<Equal<ReturnType<typeof messagesFromHeader>, WireMessage[]>>();
