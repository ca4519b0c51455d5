// The browser entry's schemas infer the types a page works with.
import type { levelNameSchema, messagesFromHeader } from 'koa-messages/client';
import {
  type AjaxResponse,
  ajaxResponseSchema,
  type LevelName,
  messagesEventDetailSchema,
  messagesHeaderSchema,
  onMessages,
  type WireMessage,
} from 'koa-messages/client';
import { z } from 'zod';

import { assertType, type Equal } from './equal.js';

const Vote = ajaxResponseSchema(z.object({ votes: z.number() }));
type Vote = z.infer<typeof Vote>;
assertType<Equal<Vote['votes'], number>>();
assertType<Equal<Vote['success'], boolean | undefined>>();
assertType<Equal<Vote['messages'], { message: string; tags: string }[] | undefined>>();

const loose = ajaxResponseSchema().parse({});
assertType<Equal<typeof loose.success, boolean | undefined>>();

assertType<Equal<z.infer<typeof levelNameSchema>, LevelName>>();
assertType<Equal<LevelName, 'debug' | 'info' | 'success' | 'warning' | 'error'>>();
assertType<Equal<AjaxResponse<{ votes: number }>['messages'], WireMessage[] | undefined>>();

// @ts-expect-error: only z.object() data schemas
ajaxResponseSchema(z.string());

// The header transports: the same message shape in HX-Trigger's `messages` event and X-Messages.
const header = messagesHeaderSchema.parse({ messages: [{ message: 'Hi', tags: 'info' }] });
assertType<Equal<typeof header.messages, WireMessage[]>>();
const detail = messagesEventDetailSchema.parse({ value: [{ message: 'Hi', tags: 'info' }] });
assertType<Equal<typeof detail.value, WireMessage[]>>();
const stop: () => void = onMessages((list: WireMessage[]) => void list);
stop();
assertType<Equal<ReturnType<typeof messagesFromHeader>, WireMessage[]>>();
