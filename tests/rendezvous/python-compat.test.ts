// The Python behaviours a client of the reference server can observe, checked against what
// CPython prints for the same input (values noted from python3 -c 'import json; ...').
import { describe, expect, it } from 'vitest';
import { codePointLength, pyInt, pyJsonDumps, pyJsonLoads, pyStr } from '../../src-main/rendezvous-server/python-compat.ts';

describe('pyJsonDumps (json.dumps defaults)', () => {
  it('separates with ", " and ": " and keeps key order', () => {
    expect(pyJsonDumps({ status: 'OK', ttl: 60, peers: [{ a: null, b: true }, []] })).toBe(
      '{"status": "OK", "ttl": 60, "peers": [{"a": null, "b": true}, []]}',
    );
  });

  it('escapes everything outside printable ASCII, astral characters as surrogate pairs', () => {
    expect(pyJsonDumps('João 😀 "q" \\ \n\t\u0001\u007f')).toBe('"Jo\\u00e3o \\ud83d\\ude00 \\"q\\" \\\\ \\n\\t\\u0001\\u007f"');
  });
});

describe('pyJsonLoads (json.loads)', () => {
  it('accepts NaN and Infinity as values but leaves them alone inside strings', () => {
    const v = pyJsonLoads('{"a": NaN, "b": -Infinity, "c": "NaN Infinity"}') as Record<string, unknown>;
    expect(v.a).toBeNaN();
    expect(v.b).toBe(-Infinity);
    expect(v.c).toBe('NaN Infinity');
  });

  it('rejects what Python rejects', () => {
    for (const text of ['{"a": 1,}', "{'a': 1}", 'nan', '\ufeff{}', '{"a": NaNa}']) expect(pyJsonLoads(text)).toBeUndefined();
  });
});

describe('pyInt (int())', () => {
  it('coerces as Python does', () => {
    expect(pyInt(5000)).toBe(5000n);
    expect(pyInt(12.9)).toBe(12n);
    expect(pyInt(-12.9)).toBe(-12n);
    expect(pyInt(true)).toBe(1n);
    expect(pyInt(' +4_007 \n')).toBe(4007n);
    expect(pyInt('99999999999999999999')).toBe(99999999999999999999n);
  });

  it('refuses what raises in Python', () => {
    for (const v of ['1.5', '', '1__0', '0x10', null, [1], { a: 1 }, NaN, Infinity]) expect(pyInt(v)).toBeUndefined();
  });
});

describe('pyStr (str())', () => {
  it('writes strings as they are and containers as Python repr', () => {
    expect(pyStr('abc')).toBe('abc');
    expect(pyStr(70000n)).toBe('70000');
    expect(pyStr(['a', 1, null, true, { k: "it's" }])).toBe(`['a', 1, None, True, {'k': "it's"}]`);
  });
});

it('counts characters as Python does, not UTF-16 units', () => {
  expect(codePointLength('😀😀')).toBe(2);
  expect(codePointLength('João')).toBe(4);
});
