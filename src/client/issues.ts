import type { $ZodIssue } from 'zod/v4/core';

/**
 * Zod's issues in one line (`Invalid input: expected number, received string at votes; …`). Not
 * zod's `prettifyError`: it would cost every page 0.2 KB gzip for the same words.
 */
export function describeIssues(issues: readonly $ZodIssue[]): string {
  return issues
    .map((issue) =>
      issue.path.length === 0
        ? issue.message
        : `${issue.message} at ${issue.path.map(String).join('.')}`,
    )
    .join('; ');
}
