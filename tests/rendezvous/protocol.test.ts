// Every rule of PROTOCOL.md §2, each as the exact bytes a client on 127.0.0.1 receives, on each
// backend: SQLite in the process, and Redis (a real redis-server).
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, exchange, register, request, requestJson, startTestServer, useBackend, type TestServer } from '../helpers/rendezvous.ts';

// Every error reply, byte for byte as the reference server's json.dumps writes it (PROTOCOL.md §2).
const ERROR = (message: string) => `{"status": "ERROR", "message": "${message}"}\n`;
const LINE_TOO_LONG = '{"status": "ERROR", "message": "line_too_long", "limit": 32768}\n';

describe.each(BACKENDS)('on %s', (backend) => {
  const backendOptions = useBackend(backend);
  let server: TestServer;
  afterEach(async () => {
    await server?.close();
  });

  async function start(options: Parameters<typeof startTestServer>[0] = {}) {
    server = await startTestServer({ ...backendOptions(), ...options });
    return server.port;
  }

  describe('REGISTER', () => {
    it('answers with the TTL, the IP the server saw and the port, formatted like the reference', async () => {
      const port = await start();
      const reply = await request(port, { type: 'REGISTER', namespace: 'CIC', name: 'alice', port: 5000 });
      expect(reply).toBe('{"status": "OK", "ttl": 7200, "ip": "127.0.0.1", "port": 5000}\n');
    });

    it('matches the request type case-insensitively', async () => {
      const port = await start();
      expect(await register(port, 'alice', 'CIC', 5000, { type: 'register' })).toMatchObject({ status: 'OK' });
      expect(await requestJson(port, { type: 'Discover' })).toMatchObject({ status: 'OK' });
    });

    it('validates name, then ttl, then namespace, then port', async () => {
      const port = await start();
      const bad = { type: 'REGISTER', name: '', ttl: 'soon', namespace: '', port: 0 };
      expect(await request(port, bad)).toBe(ERROR('bad_name'));
      expect(await request(port, { ...bad, name: 'alice' })).toBe(ERROR('bad_ttl'));
      expect(await request(port, { ...bad, name: 'alice', ttl: 60 })).toBe(ERROR('bad_namespace'));
      expect(await request(port, { ...bad, name: 'alice', ttl: 60, namespace: 'CIC' })).toBe(ERROR('bad_port'));
    });

    it('accepts names and namespaces of 1 to 64 characters, counted as characters not bytes', async () => {
      const port = await start();
      const ok = { type: 'REGISTER', namespace: 'CIC', port: 5000 };
      expect(await request(port, { ...ok, name: 'x'.repeat(65) })).toBe(ERROR('bad_name'));
      expect(await request(port, { ...ok, name: 123 })).toBe(ERROR('bad_name'));
      expect(await request(port, { type: 'REGISTER', namespace: 'CIC', port: 5000 })).toBe(ERROR('bad_name'));
      expect(await request(port, { ...ok, name: 'a', namespace: 'n'.repeat(65) })).toBe(ERROR('bad_namespace'));
      expect(await requestJson(port, { ...ok, name: 'x'.repeat(64) })).toMatchObject({ status: 'OK' });
      expect(await requestJson(port, { ...ok, name: '😀'.repeat(64) })).toMatchObject({ status: 'OK' });
    });

    it('clamps the TTL into 1..86400 instead of rejecting it, and truncates fractions', async () => {
      const port = await start();
      const ttlFor = async (ttl: unknown) => (await register(port, 'alice', 'CIC', 5000, { ttl })).ttl;
      expect(await ttlFor(0)).toBe(1);
      expect(await ttlFor(-50)).toBe(1);
      expect(await ttlFor(999_999)).toBe(86400);
      expect(await ttlFor(120.9)).toBe(120);
      expect(await request(port, { type: 'REGISTER', name: 'a', namespace: 'CIC', port: 1, ttl: null })).toBe(ERROR('bad_ttl'));
      expect(await request(port, { type: 'REGISTER', name: 'a', namespace: 'CIC', port: 1, ttl: '1.5' })).toBe(ERROR('bad_ttl'));
    });

    it('accepts numbers sent as strings and answers them as integers', async () => {
      const port = await start();
      const reply = await request(port, { type: 'REGISTER', namespace: 'CIC', name: 'alice', port: '4007', ttl: ' 120 ' });
      expect(reply).toBe('{"status": "OK", "ttl": 120, "ip": "127.0.0.1", "port": 4007}\n');
    });

    it('rejects ports outside 1..65535 and values that are not integers', async () => {
      const port = await start();
      for (const p of [0, 65536, -1, 'x', '', null, [5000], { p: 1 }]) {
        expect(await request(port, { type: 'REGISTER', name: 'a', namespace: 'CIC', port: p })).toBe(ERROR('bad_port'));
      }
      expect(await request(port, { type: 'REGISTER', name: 'a', namespace: 'CIC' })).toBe(ERROR('bad_port'));
    });

    it('replaces the record with the same (ip, namespace, name) and moves it to the end of the list', async () => {
      const port = await start();
      await register(port, 'alice', 'CIC', 5000);
      await register(port, 'bob', 'CIC', 5001);
      await register(port, 'alice', 'CIC', 6000, { ttl: 60 });
      await register(port, 'alice', 'UnB', 7000);
      const { peers } = (await requestJson(port, { type: 'DISCOVER' })) as { peers: { name: string; namespace: string; port: number; ttl: number }[] };
      expect(peers.map((p) => [p.name, p.namespace, p.port, p.ttl])).toEqual([
        ['bob', 'CIC', 5001, 7200],
        ['alice', 'CIC', 6000, 60],
        ['alice', 'UnB', 7000, 7200],
      ]);
    });

    it('stores UTF-8 names as sent and returns them escaped as the reference does', async () => {
      const port = await start();
      await register(port, 'João', 'Computação', 5000);
      const reply = await request(port, { type: 'DISCOVER', namespace: 'Computação' });
      expect(reply).toContain('"name": "Jo\\u00e3o", "namespace": "Computa\\u00e7\\u00e3o"');
      expect(JSON.parse(reply).peers[0]).toMatchObject({ name: 'João', namespace: 'Computação' });
    });

    it("keeps the IP it saw, not one the client claims", async () => {
      const port = await start();
      const reply = await requestJson(port, { type: 'REGISTER', name: 'a', namespace: 'CIC', port: 5000, ip: '8.8.8.8' });
      expect(reply.ip).toBe('127.0.0.1');
    });
  });

  describe('DISCOVER', () => {
    it('is refused to an IP without a live registration', async () => {
      const port = await start();
      expect(await request(port, { type: 'DISCOVER' })).toBe(ERROR('peer_not_registered'));
    });

    it('lists every namespace by default, one namespace when asked, nothing for an unknown one', async () => {
      const port = await start();
      await register(port, 'alice', 'CIC', 5000);
      await register(port, 'bob', 'UnB', 5001);
      const names = async (body: object) =>
        ((await requestJson(port, { type: 'DISCOVER', ...body })).peers as { name: string }[]).map((p) => p.name);
      expect(await names({})).toEqual(['alice', 'bob']);
      expect(await names({ namespace: null })).toEqual(['alice', 'bob']);
      expect(await names({ namespace: 'UnB' })).toEqual(['bob']);
      expect(await request(port, { type: 'DISCOVER', namespace: 'nobody' })).toBe('{"status": "OK", "peers": []}\n');
    });

    it('rejects a namespace of length 0 or over 64', async () => {
      const port = await start();
      await register(port, 'alice', 'CIC', 5000);
      expect(await request(port, { type: 'DISCOVER', namespace: '' })).toBe(ERROR('bad_namespace'));
      expect(await request(port, { type: 'DISCOVER', namespace: 'n'.repeat(65) })).toBe(ERROR('bad_namespace'));
      expect(await request(port, { type: 'DISCOVER', namespace: 42 })).toBe(ERROR('bad_namespace'));
    });

    it('gives each peer ip, port, name, namespace, ttl and the whole seconds left, truncated', async () => {
      // Real time, since Redis keeps its own clock: the server saw between these two spans pass.
      const port = await start();
      const before = performance.now();
      await register(port, 'alice', 'CIC', 5000, { ttl: 100 });
      const registered = performance.now();
      await new Promise((r) => setTimeout(r, 1200));
      const asked = performance.now();
      const reply = await request(port, { type: 'DISCOVER', namespace: 'CIC' });
      const answered = performance.now();
      const left = Number(/"expires_in": (\d+)\}/.exec(reply)?.[1]);
      expect(left).toBeLessThanOrEqual(Math.floor(100 - (asked - registered) / 1000));
      expect(left).toBeGreaterThanOrEqual(Math.floor(100 - (answered - before) / 1000));
      expect(reply).toBe(
        `{"status": "OK", "peers": [{"ip": "127.0.0.1", "port": 5000, "name": "alice", "namespace": "CIC", "ttl": 100, "expires_in": ${left}}]}\n`,
      );
    });

    it('counts the TTL from the last REGISTER, even one that shortens it', async () => {
      const port = await start();
      await register(port, 'alice', 'CIC', 5000, { ttl: 100 });
      await register(port, 'alice', 'CIC', 5000, { ttl: 1 });
      await new Promise((r) => setTimeout(r, 1100));
      expect(await request(port, { type: 'DISCOVER' })).toBe(ERROR('peer_not_registered'));
    });

    it('never returns a record whose TTL has run out', async () => {
      const port = await start();
      await register(port, 'keeper', 'CIC', 5000);
      await register(port, 'brief', 'CIC', 5001, { ttl: 1 });
      await new Promise((r) => setTimeout(r, 1100));
      const { peers } = (await requestJson(port, { type: 'DISCOVER' })) as { peers: { name: string }[] };
      expect(peers.map((p) => p.name)).toEqual(['keeper']);
    });
  });

  describe('UNREGISTER', () => {
    it('is refused to an IP without a live registration', async () => {
      const port = await start();
      expect(await request(port, { type: 'UNREGISTER', namespace: 'CIC' })).toBe(ERROR('peer_not_registered'));
    });

    it('requires a valid namespace and port, quoting the bad port', async () => {
      const port = await start();
      await register(port, 'alice', 'CIC', 5000);
      expect(await request(port, { type: 'UNREGISTER' })).toBe(ERROR('namespace_required'));
      expect(await request(port, { type: 'UNREGISTER', namespace: null })).toBe(ERROR('namespace_required'));
      expect(await request(port, { type: 'UNREGISTER', namespace: '' })).toBe(ERROR('bad_namespace'));
      expect(await request(port, { type: 'UNREGISTER', namespace: 'n'.repeat(65) })).toBe(ERROR('bad_namespace'));
      expect(await request(port, { type: 'UNREGISTER', namespace: 'CIC', port: 'x' })).toBe(ERROR('bad_port (x)'));
      expect(await request(port, { type: 'UNREGISTER', namespace: 'CIC', port: '70000' })).toBe(ERROR('bad_port (70000)'));
      expect(await request(port, { type: 'UNREGISTER', namespace: 'CIC', port: 0 })).toBe(ERROR('bad_port (0)'));
      expect(await request(port, { type: 'UNREGISTER', namespace: 'CIC', port: ['a'] })).toBe(ERROR("bad_port (['a'])"));
    });

    it('removes only the records matching name and port when given', async () => {
      const port = await start();
      await register(port, 'alice', 'CIC', 5000);
      await register(port, 'bob', 'CIC', 5001);
      await register(port, 'carol', 'CIC', 5002);
      await register(port, 'dave', 'UnB', 5003);
      const unregister = (body: object) => request(port, { type: 'UNREGISTER', namespace: 'CIC', ...body });
      expect(await unregister({ name: 'zed' })).toBe(ERROR('peer_credentials_do_not_match'));
      expect(await unregister({ name: 'alice', port: 5001 })).toBe(ERROR('peer_credentials_do_not_match'));
      expect(await unregister({ name: 'alice' })).toBe('{"status": "OK"}\n');
      expect(await unregister({ port: '5001' })).toBe('{"status": "OK"}\n');
      const { peers } = (await requestJson(port, { type: 'DISCOVER' })) as { peers: { name: string }[] };
      expect(peers.map((p) => p.name)).toEqual(['carol', 'dave']);
      expect(await unregister({})).toBe('{"status": "OK"}\n');
      expect(await unregister({})).toBe(ERROR('peer_credentials_do_not_match'));
      expect(await request(port, { type: 'UNREGISTER', namespace: 'UnB' })).toBe('{"status": "OK"}\n');
      expect(await request(port, { type: 'DISCOVER' })).toBe(ERROR('peer_not_registered'));
    });
  });

  describe('requests that are not requests', () => {
    it('answers an empty or blank line with "Empty request line"', async () => {
      const port = await start();
      expect((await exchange(port, '\n')).reply).toBe(ERROR('Empty request line'));
      expect((await exchange(port, ' \t \r\n')).reply).toBe(ERROR('Empty request line'));
      expect((await exchange(port, '', { end: true })).reply).toBe(ERROR('Empty request line'));
    });

    it('answers anything but a JSON object with a string type as "Unknown command"', async () => {
      const port = await start();
      for (const line of ['not json', '[1, 2]', '"REGISTER"', '{}', '{"type": 5}', '{"type": "PING"}', '{"type": "REGISTER",}']) {
        expect((await exchange(port, line + '\n')).reply).toBe(ERROR('Unknown command'));
      }
    });

    it('reads JSON as Python does: NaN is a value, so a NaN ttl is bad_ttl', async () => {
      const port = await start();
      const line = '{"type": "REGISTER", "name": "a", "namespace": "CIC", "port": 5000, "ttl": NaN}\n';
      expect((await exchange(port, line)).reply).toBe(ERROR('bad_ttl'));
      expect((await exchange(port, '{"type": "REGISTER", "name": "NaN", "namespace": "CIC", "port": 1}\n')).reply).toContain('"status": "OK"');
    });

    it('takes the end of the stream as the end of a request without newline', async () => {
      const port = await start();
      const { reply } = await exchange(port, '{"type":"REGISTER","namespace":"CIC","name":"alice","port":5000}', { end: true });
      expect(reply).toBe('{"status": "OK", "ttl": 7200, "ip": "127.0.0.1", "port": 5000}\n');
    });

    it('answers only the first line of a connection', async () => {
      const port = await start();
      const two = JSON.stringify({ type: 'REGISTER', namespace: 'CIC', name: 'alice', port: 5000 }) + '\n' +
        JSON.stringify({ type: 'REGISTER', namespace: 'CIC', name: 'bob', port: 5001 }) + '\n';
      const { reply } = await exchange(port, two);
      expect(reply).toBe('{"status": "OK", "ttl": 7200, "ip": "127.0.0.1", "port": 5000}\n');
      const { peers } = (await requestJson(port, { type: 'DISCOVER' })) as { peers: { name: string }[] };
      expect(peers.map((p) => p.name)).toEqual(['alice']);
    });

    it('accepts a line of 32768 bytes with its newline and refuses one byte more', async () => {
      const port = await start();
      const padded = (total: number) => {
        const head = '{"type": "REGISTER", "namespace": "CIC", "name": "alice", "port": 5000, "pad": "';
        return head + 'x'.repeat(total - head.length - 3) + '"}\n';
      };
      expect(Buffer.byteLength(padded(32768))).toBe(32768);
      expect((await exchange(port, padded(32768))).reply).toContain('"status": "OK"');
      expect((await exchange(port, padded(32769))).reply).toBe(LINE_TOO_LONG);
    });

    it('answers line_too_long as soon as 32768 bytes pass without a newline, and closes', async () => {
      const port = await start();
      // Far more than the limit in one go: the server must answer and close, not buffer it all.
      const { reply } = await exchange(port, Buffer.alloc(1024 * 1024, 'a'));
      expect(reply).toBe(LINE_TOO_LONG);
    });

    it('times out a client that sends no complete line', async () => {
      const port = await start({ requestTimeoutMs: 300 });
      const timeout = ERROR('Timeout: no data received, closing connection');
      expect((await exchange(port, '')).reply).toBe(timeout);
      expect((await exchange(port, '{"type": "DISCOV')).reply).toBe(timeout);
    });

    it('counts the request deadline from the connection, so trickling bytes does not extend it', async () => {
      const port = await start({ requestTimeoutMs: 400 });
      const started = performance.now();
      const { reply } = await exchange(port, '', { drip: { bytes: '{', everyMs: 50 } });
      expect(reply).toBe(ERROR('Timeout: no data received, closing connection'));
      expect(performance.now() - started).toBeLessThan(3000);
    });

    it('drops a client that keeps sending after its reply instead of reading forever', async () => {
      const port = await start({ lingerMs: 300 });
      const flood = { bytes: Buffer.alloc(16 * 1024, 'z'), everyMs: 10 };
      const { reply } = await exchange(port, '{"type": "DISCOVER"}\n', { halfOpen: true, drip: flood });
      expect(reply).toBe(ERROR('peer_not_registered'));
    });

    it('decodes invalid UTF-8 with replacement characters, as the reference does', async () => {
      const port = await start();
      const line = Buffer.concat([Buffer.from('{"type":"REGISTER","namespace":"CIC","name":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b","port":5000}\n')]);
      expect((await exchange(port, line)).reply).toContain('"status": "OK"');
      expect(await request(port, { type: 'DISCOVER' })).toContain('"name": "a\\ufffd\\ufffdb"');
      const garbage = Buffer.from([0x00, 0x9f, 0x92, 0x96, 0xc3, 0x28, 0x0a]);
      expect((await exchange(port, garbage)).reply).toBe(ERROR('Unknown command'));
    });
  });

  describe('serving many clients', () => {
    it('answers 300 concurrent REGISTERs, each with its own record', async () => {
      const port = await start();
      const replies = await Promise.all(
        Array.from({ length: 300 }, (_, i) => register(port, `peer-${i}`, i % 2 ? 'CIC' : 'UnB', 10000 + i)),
      );
      expect(replies.every((r) => r.status === 'OK')).toBe(true);
      const { peers } = (await requestJson(port, { type: 'DISCOVER' })) as { peers: unknown[] };
      expect(peers).toHaveLength(300);
    });

    it('keeps serving after clients that reset mid-request', async () => {
      const port = await start();
      const { connect } = await import('node:net');
      await Promise.all(
        Array.from({ length: 50 }, () => new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port }, () => {
            s.write('{"type": "REGIS');
            s.resetAndDestroy();
          });
          s.on('close', () => resolve());
          s.on('error', () => undefined);
        })),
      );
      expect(await register(port, 'alice', 'CIC', 5000)).toMatchObject({ status: 'OK' });
    });

    it('logs each request as [Rendezvous] with what was asked and the outcome', async () => {
      const port = await start();
      await register(port, 'alice', 'CIC', 5000);
      await request(port, { type: 'DISCOVER', namespace: 'CIC' });
      await request(port, { type: 'UNREGISTER', namespace: 'CIC', port: 'x' });
      expect(server.logs.join('\n')).toMatch(/^\S+Z INFO +\[Rendezvous\] REGISTER alice@CIC 127\.0\.0\.1:5000 ttl=7200 -> OK$/m);
      expect(server.logs.join('\n')).toMatch(/\[Rendezvous\] DISCOVER #CIC 127\.0\.0\.1 -> OK 1 peer\(s\)$/m);
      expect(server.logs.join('\n')).toMatch(/\[Rendezvous\] UNREGISTER #CIC 127\.0\.0\.1 -> ERROR bad_port \(x\)$/m);
    });

    it('keeps a client-controlled newline out of the log', async () => {
      const port = await start();
      await register(port, 'evil\n2026-01-01T00:00:00.000Z INFO  [Rendezvous] forged', 'CIC', 5000);
      expect(server.logs.some((l) => l.startsWith('2026-01-01'))).toBe(false);
    });
  });
});
