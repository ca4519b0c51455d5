import type { Level } from '../message/level.js';
import type { MessageText } from '../request/store.js';
import type { Outbox, SendOptions, SendReport, UserId } from './types.js';

type Send = Outbox['send'];
type Shortcut = (
  user: UserId | number,
  message: MessageText,
  options?: SendOptions,
) => Promise<SendReport>;

/** The level shortcuts of an outbox (`outbox.success(user, text)`), over its `send`. */
export function shortcuts(
  send: Send,
): Record<'debug' | 'info' | 'success' | 'warning' | 'error', Shortcut> {
  const at =
    (level: Level): Shortcut =>
    (user, message, options) =>
      send(user, level, message, options);
  return {
    debug: at('debug'),
    info: at('info'),
    success: at('success'),
    warning: at('warning'),
    error: at('error'),
  };
}
