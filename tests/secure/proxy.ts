// The network between two peers, as an attacker on it sees it: a TCP proxy that captures every
// byte both ways and can rewrite, repeat, drop or swap whole lines. It listens on 127.0.0.1 and
// reaches its target from 127.0.0.10 (the attackers' addresses).

import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type Direction = 'toTarget' | 'toClient';

/** Lines of one direction of one connection, in order: returns what to pass on instead. */
export type Tamper = (line: Buffer, index: number, direction: Direction) => Buffer[];

export class LineProxy {
  port = 0;
  /** Every byte that crossed, per connection and direction. */
  readonly captures: { toTarget: Buffer[]; toClient: Buffer[] }[] = [];
  tamper: Tamper | undefined;
  /** While set (a tamper may set it), what would cross toward the target waits for `release()`. */
  holding = false;
  private readonly held: { to: Socket; bytes: Buffer }[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly targetPort: number;

  constructor(targetPort: number) {
    this.targetPort = targetPort;
  }

  async listen(): Promise<number> {
    const server = createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** The lines of every capture that way, each without its newline. */
  lines(direction: Direction): string[][] {
    return this.captures.map((c) => Buffer.concat(c[direction]).toString('utf8').split('\n').filter((l) => l !== ''));
  }

  /** Ends the hold: what waited goes on, in order. */
  release(): void {
    this.holding = false;
    for (const { to, bytes } of this.held.splice(0)) to.write(bytes);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private pipe(client: Socket): void {
    const target = connect({ host: '127.0.0.1', port: this.targetPort, localAddress: '127.0.0.10' });
    const capture = { toTarget: [] as Buffer[], toClient: [] as Buffer[] };
    this.captures.push(capture);
    for (const s of [client, target]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    const forward = (from: Socket, to: Socket, direction: Direction) => {
      let rest = Buffer.alloc(0);
      let index = 0;
      from.on('data', (chunk: Buffer) => {
        capture[direction].push(chunk);
        if (!this.tamper) {
          to.write(chunk);
          return;
        }
        const data = Buffer.concat([rest, chunk]);
        const out: Buffer[] = [];
        let start = 0;
        for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
          for (const line of this.tamper(data.subarray(start, nl), index++, direction)) out.push(line, Buffer.from('\n'));
          start = nl + 1;
        }
        rest = Buffer.from(data.subarray(start));
        if (out.length === 0) return;
        if (this.holding && direction === 'toTarget') this.held.push({ to, bytes: Buffer.concat(out) });
        else to.write(Buffer.concat(out));
      });
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    };
    forward(client, target, 'toTarget');
    forward(target, client, 'toClient');
  }
}
