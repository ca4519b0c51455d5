/**
 * The five standard message levels, as in Django's `django.contrib.messages.constants`.
 *
 * Levels are plain integers: any other integer (29, 50, …) is a valid custom level.
 * This module is shared by the server and the browser entry, so it imports nothing.
 */
export const LEVELS = Object.freeze({
  debug: 10,
  info: 20,
  success: 25,
  warning: 30,
  error: 40,
} as const);

/** One of the standard level names: `'debug' | 'info' | 'success' | 'warning' | 'error'`. */
export type LevelName = keyof typeof LEVELS;

/** The standard level names, lowest first. */
export const LEVEL_NAMES = [
  'debug',
  'info',
  'success',
  'warning',
  'error',
] as const satisfies readonly LevelName[];
