import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import ts from 'typescript';

/**
 * What the compiler says to a user who hands `ctx.ajax()` something that is not a plain object:
 * the message must name the rule, not "not assignable to parameter of type 'undefined'".
 */
// Against the built declarations (`npm test` builds first), as a user's editor sees them.
describe('ctx.ajax() types', () => {
  it('explains in the compile error that data must be a plain object', function () {
    this.timeout(60_000);
    const file = fileURLToPath(new URL('./ajax-types.fixture.ts', import.meta.url));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      types: ['node'],
    });
    const messages = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(messages).to.have.length(2);
    for (const message of messages) {
      expect(message).to.contain(
        '"ctx.ajax() data must be a plain object (an object literal), not an array, a function or a built-in"',
      );
      expect(message).not.to.contain("type 'undefined'");
    }
  });
});
