import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AdmittedArtifact, Sandbox } from '@airlock/sandbox';
import { compileSource } from '../support/pdk.js';
import { admitted, context } from '../support/sandbox-harness.js';

// A plugin that reads and writes JSON only through the kit: what a host app sends is what the plugin reads, and
// what the plugin writes is JSON any parser reads.
const SOURCE = `
import { Host, JSON, Kv, parseJson, stringifyJson } from "@airlock/plugin-pdk";

/** The input as text, through the kit's own parseJson and stringifyJson. */
export function text_round_trip(): i32 {
  Host.outputString(stringifyJson(parseJson(Host.inputString())));
  return 0;
}

/** The input, read and written back. */
export function echo(): i32 {
  Host.outputJson(Host.inputJson());
  return 0;
}

/** What each number of the input array was read as, and its value as text. */
export function kinds(): i32 {
  const values = (<JSON.Arr>Host.inputJson()).valueOf();
  const out = new JSON.Arr();
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out.push(JSON.Value.String((value.isInteger ? "integer " : value.isFloat ? "float " : "other ") + value.stringify()));
  }
  Host.outputJson(out);
  return 0;
}

/** Values built in the plugin, with every character JSON must escape. */
export function build(): i32 {
  const out = new JSON.Obj();
  out.set("text", "line 1\\nline 2\\t\\"quoted\\" back\\\\slash \\u0001\\u001f\\b\\f\\r é 😀");
  out.set("we\\"ird\\nname", true);
  out.set("nan", NaN);
  out.set("infinite", -Infinity);
  out.set("largest", i64.MAX_VALUE);
  out.set("smallest", i64.MIN_VALUE);
  out.set("half", 0.5);
  out.set("lone", String.fromCharCode(0xd800) + "x");
  Host.outputJson(out);
  return 0;
}

/** The input stored as JSON, then read back. */
export function store(): i32 {
  Kv.setJson("doc", Host.inputJson());
  Host.outputJson(<JSON.Value>Kv.getJson("doc"));
  return 0;
}
`;

describe('plugin-pdk JSON text, read and written by the kit', () => {
  let sandbox: Sandbox;
  let plugin: AdmittedArtifact;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
    plugin = admitted(await compileSource(SOURCE));
  });
  after(() => sandbox.stop());

  const call = async (name: string, input: string) => {
    const result = await sandbox.run(plugin, name, input, context());
    assert.equal(result.status, 'ok', `${name}(${input.slice(0, 80)}): ${result.error?.message}`);
    return Buffer.from(result.output).toString();
  };

  it('reads strings as JSON writes them: every escape (\\f too), surrogate pairs, UTF-8, and writes them back escaped', async () => {
    const text = String.raw`["\"\\\/\b\f\n\r\t","\u00e9\u0001","\ud83d\ude00 é 😀","line\nbreak"]`;
    const output = await call('echo', text);
    assert.deepEqual(JSON.parse(output), JSON.parse(text));
    assert.equal(output, JSON.stringify(JSON.parse(text)), 'escaped as JSON.stringify escapes');
  });

  it('reads integers exactly as 64-bit integers, and the rest as the double nearest, as JavaScript does', async () => {
    const output = JSON.parse(await call('kinds', '[0, -7, 9007199254740993, 9223372036854775807, -9223372036854775808, 9223372036854775808, -0, 1.5, 1E2, 2e-3, 1e400]'));
    assert.deepEqual(output, [
      'integer 0',
      'integer -7',
      'integer 9007199254740993',
      'integer 9223372036854775807',
      'integer -9223372036854775808',
      'float 9223372036854776000.0',
      'float 0.0',
      'float 1.5',
      'float 100.0',
      'float 0.002',
      'float Infinity',
    ]);
  });

  it('reads every double JavaScript writes as the double it is, or at worst the one next to it', async () => {
    const written = [
      '1.0000000000000002e+50', '1.2345678901234567e+30', '9.999999999999999e+45', '0.1', '0.30000000000000004', '1e23',
      '1.7976931348623157e+308', '5e-324', '2.2250738585072014e-308', '123456789012345678901234567890', '-1.5e-7', '4.35',
    ];
    const read = JSON.parse(await call('echo', `[${written.join(',')}]`)) as number[];
    const bits = (value: number) => new BigInt64Array(new Float64Array([value]).buffer)[0]!;
    written.forEach((text, i) => {
      const apart = bits(read[i]!) - bits(Number(text));
      assert.ok(apart >= -1n && apart <= 1n, `${text} read as ${read[i]} (${apart} doubles apart)`);
    });
  });

  it('reads a string in time proportional to its length, however many escapes it has', async () => {
    // As Python's json.dumps writes text by default: every letter an escape.
    const escaped = (repeat: number) => JSON.stringify('Привет мир '.repeat(repeat)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const run = async (repeat: number) => {
      const result = await sandbox.run(plugin, 'echo', escaped(repeat), context());
      assert.equal(result.status, 'ok', result.error?.message);
      assert.equal(JSON.parse(Buffer.from(result.output).toString()), 'Привет мир '.repeat(repeat));
      return result.fuelUsed;
    };
    const [short, long] = [await run(500), await run(2000)];
    assert.ok(long < short * 5, `4 times the escapes cost ${(long / short).toFixed(1)} times the fuel`);
  });

  it('writes JSON any parser reads: names and text escaped, numbers JSON cannot hold as null, a lone surrogate as its escape', async () => {
    const output = await call('build', '');
    const parsed = JSON.parse(output);
    assert.deepEqual(parsed, {
      text: 'line 1\nline 2\t"quoted" back\\slash \u0001\u001f\b\f\r é 😀',
      'we"ird\nname': true,
      nan: null,
      infinite: null,
      largest: 2 ** 63,
      smallest: -(2 ** 63),
      half: 0.5,
      lone: '\ud800x',
    });
    assert.match(output, /"largest":9223372036854775807,"smallest":-9223372036854775808,/, 'integers written exactly');
    assert.match(output, /"lone":"\\ud800x"/);
  });

  it('gives plugins the same reading and writing for any text: parseJson and stringifyJson', async () => {
    assert.equal(await call('text_round_trip', '{"a" : [1, 2.5, "\\f\\n"]}'), '{"a":[1,2.5,"\\f\\n"]}');
    const refused = await sandbox.run(plugin, 'text_round_trip', '{"a": [1,]}', context());
    assert.equal(refused.status, 'trap');
    assert.match(refused.error!.message, /^the text is not JSON: expected a value at byte 9/);
  });

  it('keeps JSON through the key-value store as it was sent, nested a thousand deep', async () => {
    const deep = '['.repeat(1000) + ']'.repeat(1000);
    const text = `{"a":"x\\ny","n":12345678901234567,"deep":${deep}}`;
    assert.equal(await call('store', text), text);
  });
});
