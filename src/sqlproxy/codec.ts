/**
 * Postgres wire protocol v3 framing: a reader that cuts the byte stream into messages and
 * encoders for every backend message the proxy sends. Exact framing matters — psql drops the
 * connection on one stray byte.
 */

export interface FrontendMessage {
  /** Type byte as a character; '' for startup-phase messages (no type byte). */
  readonly type: string;
  readonly body: Buffer;
}

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
const MAX_MESSAGE = 64 * 1024 * 1024;
/** Postgres' own bound on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_MESSAGE = 10_000;
/** Before authentication only a password (a token) arrives: small, whoever announces more is cut off. */
export const MAX_PRE_AUTH_MESSAGE = 64 * 1024;

/**
 * Accumulates chunks and yields complete messages. Chunks are kept as a list and joined once per
 * message (never re-copied per chunk), and a message larger than the phase allows is refused from
 * its header, before its body is read.
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private length = 0;
  /** Startup-phase messages have no type byte. */
  startup = true;
  /** Set once the session is authenticated: lifts the pre-auth message bound. */
  authenticated = false;

  push(chunk: Buffer): FrontendMessage[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const out: FrontendMessage[] = [];
    for (;;) {
      const header = this.startup ? 4 : 5;
      if (this.length < header) break;
      const head = this.peek(header);
      const len = head.readInt32BE(header - 4);
      const max = this.startup ? MAX_STARTUP_MESSAGE : this.authenticated ? MAX_MESSAGE : MAX_PRE_AUTH_MESSAGE;
      if (len < 4 || len > max) throw new Error(`invalid message length ${len}${len > max ? ` (at most ${max} bytes here)` : ''}`);
      const total = header - 4 + len;
      if (this.length < total) break;
      const type = this.startup ? '' : String.fromCharCode(head[0]);
      out.push({ type, body: this.take(total).subarray(header) });
      // Only one startup-phase message is read at a time: the caller switches modes.
      if (this.startup) break;
    }
    return out;
  }

  /** Bytes received but not yet framed (e.g. after switching to TLS). */
  get pending(): number {
    return this.length;
  }

  takePending(): Buffer {
    return this.take(this.length);
  }

  /** The first n bytes (n <= length), joining only the chunks they span. */
  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    let got = 0;
    let i = 0;
    while (got < n) got += this.chunks[i++].length;
    const joined = Buffer.concat(this.chunks.slice(0, i));
    this.chunks.splice(0, i, joined);
    return joined;
  }

  /** Removes and returns the first n bytes (n <= length). */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    if (this.chunks[0].length >= n) {
      out = this.chunks[0].subarray(0, n);
      if (this.chunks[0].length === n) this.chunks.shift();
      else this.chunks[0] = this.chunks[0].subarray(n);
    } else {
      const parts: Buffer[] = [];
      let got = 0;
      while (got < n) {
        const c = this.chunks[0];
        const need = n - got;
        if (c.length <= need) {
          parts.push(c);
          got += c.length;
          this.chunks.shift();
        } else {
          parts.push(c.subarray(0, need));
          this.chunks[0] = c.subarray(need);
          got = n;
        }
      }
      out = Buffer.concat(parts, n);
    }
    this.length -= n;
    return out;
  }
}

/** Cursor over a message body. */
export class BodyReader {
  private pos = 0;
  constructor(private readonly body: Buffer) {}

  int16(): number {
    const v = this.body.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    const v = this.body.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    const v = this.body.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  byte(): string {
    return String.fromCharCode(this.body[this.pos++]);
  }

  cstring(): string {
    const end = this.body.indexOf(0, this.pos);
    if (end < 0) throw new Error('unterminated string in message');
    const s = this.body.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    const b = this.body.subarray(this.pos, this.pos + n);
    if (b.length !== n) throw new Error('truncated message');
    this.pos += n;
    return b;
  }

  get remaining(): number {
    return this.body.length - this.pos;
  }
}

/** Builds one message: type byte, int32 length (self-inclusive), body. */
export class MessageBuilder {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly type: string) {}

  int8(v: number): this {
    return this.push(Buffer.from([v & 0xff]));
  }

  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this.push(b);
  }

  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v | 0);
    return this.push(b);
  }

  uint32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }

  cstring(s: string): this {
    return this.push(Buffer.from(`${s}\0`, 'utf8'));
  }

  push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  build(): Buffer {
    const head = Buffer.alloc(5);
    head.write(this.type, 0, 'latin1');
    head.writeInt32BE(this.size + 4, 1);
    return Buffer.concat([head, ...this.parts], 5 + this.size);
  }
}

// ---- backend messages ----

export const msg = {
  authOk: () => new MessageBuilder('R').int32(0).build(),
  authCleartext: () => new MessageBuilder('R').int32(3).build(),
  parameterStatus: (name: string, value: string) => new MessageBuilder('S').cstring(name).cstring(value).build(),
  backendKeyData: (pid: number, secret: number) => new MessageBuilder('K').int32(pid).int32(secret).build(),
  readyForQuery: (status: 'I' | 'T' | 'E') => new MessageBuilder('Z').push(Buffer.from(status, 'latin1')).build(),
  parseComplete: () => new MessageBuilder('1').build(),
  bindComplete: () => new MessageBuilder('2').build(),
  closeComplete: () => new MessageBuilder('3').build(),
  noData: () => new MessageBuilder('n').build(),
  portalSuspended: () => new MessageBuilder('s').build(),
  emptyQuery: () => new MessageBuilder('I').build(),
  commandComplete: (tag: string) => new MessageBuilder('C').cstring(tag).build(),
  parameterDescription: (oids: readonly number[]) => {
    const m = new MessageBuilder('t').int16(oids.length);
    for (const o of oids) m.uint32(o);
    return m.build();
  },
  rowDescription: (fields: readonly FieldDescription[]) => {
    const m = new MessageBuilder('T').int16(fields.length);
    for (const f of fields) {
      m.cstring(f.name)
        .uint32(f.tableOid ?? 0)
        .int16(f.columnAttr ?? 0)
        .uint32(f.typeOid)
        .int16(f.typeSize)
        .int32(f.typeMod ?? -1)
        .int16(f.format);
    }
    return m.build();
  },
  dataRow: (cells: readonly (Buffer | null)[]) => {
    const m = new MessageBuilder('D').int16(cells.length);
    for (const c of cells) {
      if (c === null) m.int32(-1);
      else m.int32(c.length).push(c);
    }
    return m.build();
  },
  /** ErrorResponse ('E') or NoticeResponse ('N'). */
  error: (fields: NoticeFields, type: 'E' | 'N' = 'E') => {
    const m = new MessageBuilder(type);
    m.push(Buffer.from('S')).cstring(fields.severity);
    m.push(Buffer.from('V')).cstring(fields.severity);
    m.push(Buffer.from('C')).cstring(fields.code);
    m.push(Buffer.from('M')).cstring(fields.message);
    if (fields.detail) m.push(Buffer.from('D')).cstring(fields.detail);
    if (fields.hint) m.push(Buffer.from('H')).cstring(fields.hint);
    if (fields.position !== undefined) m.push(Buffer.from('P')).cstring(String(fields.position));
    return m.int8(0).build();
  },
  negotiateProtocolVersion: (minor: number, unsupported: readonly string[]) => {
    const m = new MessageBuilder('v').int32(PROTOCOL_3_0 + minor).int32(unsupported.length);
    for (const u of unsupported) m.cstring(u);
    return m.build();
  },
};

export interface FieldDescription {
  readonly name: string;
  readonly tableOid?: number;
  readonly columnAttr?: number;
  readonly typeOid: number;
  readonly typeSize: number;
  readonly typeMod?: number;
  readonly format: number;
}

export interface NoticeFields {
  readonly severity: 'ERROR' | 'FATAL' | 'WARNING' | 'NOTICE';
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: number;
}

/** Parses the fields of an ErrorResponse/NoticeResponse body. */
export function parseErrorFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  const r = new BodyReader(body);
  while (r.remaining > 0) {
    const code = r.byte();
    if (code === '\0') break;
    out[code] = r.cstring();
  }
  return out;
}

/** Splits a raw backend byte stream (from the catalog engine) into messages. */
export function splitBackendMessages(data: Uint8Array): { type: string; body: Buffer; raw: Buffer }[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: { type: string; body: Buffer; raw: Buffer }[] = [];
  let pos = 0;
  while (pos + 5 <= buf.length) {
    const len = buf.readInt32BE(pos + 1);
    const end = pos + 1 + len;
    out.push({ type: String.fromCharCode(buf[pos]), body: buf.subarray(pos + 5, end), raw: buf.subarray(pos, end) });
    pos = end;
  }
  return out;
}

// ---- frontend messages (used by the catalog engine bridge and by tests) ----

export const frontend = {
  query: (sql: string) => new MessageBuilder('Q').cstring(sql).build(),
  parse: (name: string, sql: string, oids: readonly number[]) => {
    const m = new MessageBuilder('P').cstring(name).cstring(sql).int16(oids.length);
    for (const o of oids) m.uint32(o);
    return m.build();
  },
  bind: (portal: string, stmt: string, paramFormats: readonly number[], values: readonly (Buffer | null)[], resultFormats: readonly number[]) => {
    const m = new MessageBuilder('B').cstring(portal).cstring(stmt).int16(paramFormats.length);
    for (const f of paramFormats) m.int16(f);
    m.int16(values.length);
    for (const v of values) {
      if (v === null) m.int32(-1);
      else m.int32(v.length).push(v);
    }
    m.int16(resultFormats.length);
    for (const f of resultFormats) m.int16(f);
    return m.build();
  },
  describe: (kind: 'S' | 'P', name: string) => new MessageBuilder('D').push(Buffer.from(kind)).cstring(name).build(),
  execute: (portal: string, maxRows: number) => new MessageBuilder('E').cstring(portal).int32(maxRows).build(),
  sync: () => new MessageBuilder('S').build(),
};
