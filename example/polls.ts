/**
 * The demo's data: one poll, kept in memory (the Django tutorial's Question and Choice models).
 * A real app would use a database; nothing here is specific to koa-messages.
 */

export interface Choice {
  readonly id: number;
  readonly text: string;
  votes: number;
}

export interface Poll {
  readonly question: string;
  readonly choices: readonly Choice[];
  /** Every vote cast. */
  readonly total: number;
  /** Add one vote; `undefined` when there is no such choice. */
  vote(id: number): Choice | undefined;
  /** Add a choice, or say why not. */
  suggest(
    text: string,
  ): { added: Choice } | { problem: 'empty' | 'too-long' | 'duplicate' | 'full' };
}

/** Longest choice text accepted from the form. */
export const MAX_CHOICE_LENGTH = 80;
/** The poll stops taking suggestions here, so a public demo cannot grow without bound. */
export const MAX_CHOICES = 12;

/**
 * A fresh poll with the tutorial's question and three choices.
 *
 * @param question - default: the Django tutorial's "What's new?".
 * @param choices - default: "Not much", "The sky", "Just hacking again".
 */
export function createPoll(
  question = "What's new?",
  choices: readonly string[] = ['Not much', 'The sky', 'Just hacking again'],
): Poll {
  const list: Choice[] = choices.map((text, i) => ({ id: i + 1, text, votes: 0 }));
  return {
    question,
    choices: list,
    get total() {
      return list.reduce((sum, c) => sum + c.votes, 0);
    },
    vote(id) {
      const choice = list.find((c) => c.id === id);
      if (choice !== undefined) choice.votes += 1;
      return choice;
    },
    suggest(raw) {
      const text = raw.trim().replace(/\s+/g, ' ');
      if (text === '') return { problem: 'empty' };
      if (text.length > MAX_CHOICE_LENGTH) return { problem: 'too-long' };
      if (list.some((c) => c.text.toLowerCase() === text.toLowerCase()))
        return { problem: 'duplicate' };
      if (list.length >= MAX_CHOICES) return { problem: 'full' };
      const added: Choice = { id: list.length + 1, text, votes: 0 };
      list.push(added);
      return { added };
    },
  };
}
