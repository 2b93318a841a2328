import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MESSAGE_CHARACTERS, storableText } from './storable-text.js';

describe('storableText', () => {
  it('keeps a short message, NUL made visible', () => {
    assert.equal(storableText('bad\0byte'), 'bad\\u0000byte');
  });

  it('cuts a long message within the limit, saying how much was cut, and leaves it so when it passes again', () => {
    const once = storableText('x'.repeat(10_000));
    assert.ok(once.length <= MAX_MESSAGE_CHARACTERS, `${once.length} characters`);
    const [, cut] = /… \((\d+) more characters\)$/.exec(once)!;
    assert.equal(once.length - `… (${cut} more characters)`.length + Number(cut), 10_000, 'kept and cut add up to the message');
    assert.equal(storableText(once), once);
  });
});
