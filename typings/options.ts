// The option types are as exact as the runtime check: what messages() would reject does not compile.
import {
  cookieStorage,
  fallbackStorage,
  messages,
  type MessagesOptions,
  type MessageStorage,
  sessionStorage,
  type StorageName,
} from 'koa-messages';

messages();
messages({ level: 'success', tags: { error: 'danger', 35: 'notice' }, maxMessages: 10 });
messages({ level: 29, escape: false, onDrop: (event) => void event.reason });
messages({
  storage: fallbackStorage({ sessionKey: 'flash', cookie: { maxSize: 1024, sameSite: 'strict' } }),
});
messages({ storage: sessionStorage({ key: 'flash' }) });
messages({ storage: cookieStorage({ name: 'flash' }) });

// @ts-expect-error -- not a level name
messages({ level: 'verbose' });
// @ts-expect-error -- tags are keyed by level name or integer
messages({ tags: { loud: 'x' } });
// @ts-expect-error -- tags are strings
messages({ tags: { info: 1 } });
// @ts-expect-error -- not a storage name
messages({ storage: 'redis' });
// @ts-expect-error -- not a cookie option
cookieStorage({ maxAge: 1000 });
// @ts-expect-error -- not a SameSite value
cookieStorage({ sameSite: 'Lax' });
// @ts-expect-error -- a storage's options go to its factory
messages({ storage: 'cookie', cookie: { maxSize: 1024 } });
// @ts-expect-error -- a storage's options go to its factory
messages({ sessionKey: 'flash' });
// @ts-expect-error -- unknown option
messages({ sessionkey: 'x' });

const names: StorageName[] = ['session', 'cookie', 'fallback', 'memory'];
const custom: MessageStorage = { open: () => ({ load: () => [], save: () => undefined }) };
const options: MessagesOptions = { storage: custom };
void names;
void options;
