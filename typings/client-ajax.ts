// ajax() from the built client entry: typed data once a failure is ruled out, typed errors.
import {
  ajax,
  AjaxError,
  type AjaxErrorReason,
  type AjaxResult,
  type WireMessage,
} from 'koa-messages/client';
import * as z from 'zod';
import * as zm from 'zod/mini';

import { assertType, type Equal } from './equal.js';

export async function vote(): Promise<void> {
  const result = await ajax('/choices/1/vote', { method: 'POST' }, z.object({ votes: z.number() }));
  assertType<Equal<typeof result, AjaxResult<{ votes: number }>>>();
  assertType<Equal<typeof result.messages, WireMessage[]>>();
  assertType<Equal<typeof result.status, number>>();
  if (result.success === false) {
    assertType<Equal<typeof result.data, Record<string, unknown>>>();
  } else {
    assertType<Equal<typeof result.success, true | undefined>>();
    assertType<Equal<typeof result.data, { votes: number }>>();
  }

  // A zod/mini data schema: the same types.
  const mini = await ajax('/choices/1/vote', { method: 'POST' }, zm.object({ votes: zm.number() }));
  assertType<Equal<typeof mini, AjaxResult<{ votes: number }>>>();

  // Without a schema every data key is kept, unchecked.
  const loose = await ajax('/anything');
  assertType<Equal<typeof loose.data, Record<string, unknown>>>();

  // @ts-expect-error: only z.object() data schemas
  await ajax('/x', undefined, z.string());
  // @ts-expect-error: only z.object() data schemas, in zod/mini too
  await ajax('/x', undefined, zm.array(zm.string()));

  try {
    await ajax('/x');
  } catch (error) {
    if (error instanceof AjaxError) {
      assertType<Equal<typeof error.reason, AjaxErrorReason>>();
      assertType<Equal<AjaxErrorReason, 'network' | 'not-json' | 'invalid'>>();
      assertType<Equal<typeof error.status, number | undefined>>();
    }
  }
}
