import type { MessageStore } from './request/store.js';
import type { AjaxBody, AjaxData, AjaxInit } from './transport/ajax.js';

/**
 * `ctx.messages` and `ctx.ajax()` on every Koa context.
 *
 * Declared on `BaseContext`, not `DefaultContext`: a router or app with its own context type
 * (`new Router<State, CustomContext>()`) drops `DefaultContext` additions but keeps these.
 */
declare module 'koa' {
  interface BaseContext {
    /**
     * This request's flash messages (not `ctx.message`, which is Koa's HTTP status text).
     * @throws {TypeError} when read where `messages()` middleware has not run.
     */
    readonly messages: MessageStore;

    /**
     * Answer JSON: `{ ...data, success, messages: [{ message, tags }] }`, consuming the messages.
     *
     * @param data - a plain object (default `{}`); never mutated.
     * @param success - omitted/`undefined`/`null`: no `success` key; anything else: `Boolean(success)`.
     * @param init - `{ status, headers }`.
     * @returns the body that was sent.
     * @throws {TypeError} when `data` is not a plain object, `init` is malformed or the body is not
     *   serializable; no message is consumed then.
     * @example
     * ctx.messages.success('Vote recorded.');
     * ctx.ajax({ votes: 3 }, true); // {"votes":3,"success":true,"messages":[{"message":"Vote recorded.","tags":"success"}]}
     */
    ajax<const T extends object = Record<never, never>>(
      data?: T & AjaxData<T>,
      success?: unknown,
      init?: AjaxInit,
    ): AjaxBody<T>;
  }
}

export {};
