/**
 * A seeded random write workload over every command family the engine replays, in the forms
 * clients send (the server rewrites them for its AOF: EXPIRE → PEXPIREAT, SPOP → SREM,
 * XREADGROUP → XCLAIM, INCRBYFLOAT → SET ... KEEPTTL, scripts → their effects...). Blocking
 * commands are left to the family tests: their timeouts would make this run slow.
 */

export type Cmd = Array<string | number>;

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAR_S = 4102444800; // 2100-01-01: TTLs never fire during a test

export class Workload {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private key(kind: string): string {
    return `${kind}:${this.int(12)}`;
  }

  private val(): string {
    const r = this.r();
    if (r < 0.3) return String(this.int(1000) - 500);
    if (r < 0.35) return `${this.int(100)}.${this.int(100)}`;
    if (r < 0.4) return 'x'.repeat(this.int(300));
    return `v${this.int(50)}`;
  }

  private member(): string {
    return `m${this.int(40)}`;
  }

  private ttl(): Cmd {
    return this.pick([
      ['EX', 100000 + this.int(1000)],
      ['PX', 100000000 + this.int(1000)],
      ['EXAT', FAR_S + this.int(1000)],
      ['PXAT', FAR_S * 1000 + this.int(100000)],
    ]);
  }

  /** One command (or a MULTI block) to send. */
  next(): Cmd[] {
    const r = this.r();
    if (r < 0.03) {
      const n = 2 + this.int(3);
      return [['MULTI'], ...Array.from({ length: n }, () => this.single()), ['EXEC']];
    }
    if (r < 0.05) return [['SELECT', this.int(4)]];
    return [this.single()];
  }

  private single(): Cmd {
    const family = this.pick(['string', 'string', 'bits', 'hll', 'key', 'list', 'list', 'set', 'zset', 'zset', 'hash', 'hash', 'stream', 'stream', 'geo', 'script']);
    switch (family) {
      case 'string':
        return this.string();
      case 'bits':
        return this.bits();
      case 'hll':
        return this.hll();
      case 'key':
        return this.keyCmd();
      case 'list':
        return this.list();
      case 'set':
        return this.set();
      case 'zset':
        return this.zset();
      case 'hash':
        return this.hash();
      case 'stream':
        return this.stream();
      case 'geo':
        if (this.r() < 0.2) {
          return ['GEOSEARCHSTORE', this.key('geo'), this.key('geo'), 'FROMLONLAT', -180 + this.r() * 360, -85 + this.r() * 170, 'BYRADIUS', 1000 + this.int(9000), 'km', ...(this.r() < 0.5 ? ['STOREDIST'] : [])];
        }
        return ['GEOADD', this.key('geo'), -180 + this.r() * 360, -85 + this.r() * 170, this.member()];
      default:
        return this.pick<Cmd>([
          ['EVAL', "redis.call('set', KEYS[1], ARGV[1]); redis.call('incr', KEYS[2]); return 1", 2, this.key('str'), this.key('cnt'), this.val()],
          ['FCALL', 'wl_set', 1, this.key('str'), this.val()],
          ['PING'],
        ]);
    }
  }

  private string(): Cmd {
    const k = this.key('str');
    const c = this.key('cnt');
    return this.pick<() => Cmd>([
      () => ['SET', k, this.val()],
      () => ['SET', k, this.val(), ...this.ttl()],
      () => ['SET', k, this.val(), 'NX'],
      () => ['SET', k, this.val(), 'XX', 'KEEPTTL'],
      () => ['SET', k, this.val(), 'GET'],
      () => ['SETEX', k, 100000, this.val()],
      () => ['PSETEX', k, 100000000, this.val()],
      () => ['SETNX', k, this.val()],
      () => ['GETSET', k, this.val()],
      () => ['GETDEL', k],
      () => ['GETEX', k, ...this.ttl()],
      () => ['GETEX', k, 'PERSIST'],
      () => ['MSET', k, this.val(), this.key('str'), this.val()],
      () => ['MSETNX', this.key('str'), this.val(), this.key('str'), this.val()],
      () => ['APPEND', k, this.val()],
      () => ['SETRANGE', k, this.int(20), this.val()],
      () => ['INCR', c],
      () => ['DECR', c],
      () => ['INCRBY', c, this.int(100) - 50],
      () => ['DECRBY', c, this.int(100)],
      () => ['INCRBYFLOAT', this.key('flt'), `${this.int(100) - 50}.${this.int(1000)}`],
    ])();
  }

  private bits(): Cmd {
    const k = this.key('bit');
    return this.pick<() => Cmd>([
      () => ['SETBIT', k, this.int(200), this.int(2)],
      () => ['BITOP', this.pick(['AND', 'OR', 'XOR']), this.key('bit'), k, this.key('bit')],
      () => ['BITOP', 'NOT', this.key('bit'), k],
      () => ['BITFIELD', k, 'OVERFLOW', this.pick(['WRAP', 'SAT', 'FAIL']), 'INCRBY', this.pick(['i5', 'u8', 'i16']), this.int(64), this.int(200) - 100],
      () => ['BITFIELD', k, 'SET', this.pick(['u4', 'i8']), `#${this.int(8)}`, this.int(300) - 150],
    ])();
  }

  private hll(): Cmd {
    const k = this.key('hll');
    return this.pick<() => Cmd>([
      () => ['PFADD', k, ...Array.from({ length: 1 + this.int(30) }, () => `e${this.int(5000)}`)],
      () => ['PFCOUNT', k],
      () => ['PFMERGE', this.key('hll'), k, this.key('hll')],
    ])();
  }

  private keyCmd(): Cmd {
    const kinds = ['str', 'lst', 'set', 'zst', 'hsh', 'str', 'cnt'];
    const k = this.key(this.pick(kinds));
    return this.pick<() => Cmd>([
      () => ['DEL', k],
      () => ['UNLINK', k],
      () => ['EXPIRE', k, 100000 + this.int(100)],
      () => ['PEXPIRE', k, 100000000 + this.int(100), this.pick(['NX', 'XX', 'GT', 'LT'])],
      () => ['EXPIREAT', k, FAR_S + this.int(100)],
      () => ['PEXPIREAT', k, FAR_S * 1000 + this.int(100000)],
      () => ['PERSIST', k],
      () => ['RENAME', k, this.key(k.split(':')[0]!)],
      () => ['RENAMENX', k, this.key(k.split(':')[0]!)],
      () => ['MOVE', k, this.int(4)],
      () => ['COPY', k, this.key(k.split(':')[0]!), 'DB', this.int(4), 'REPLACE'],
      () => (this.r() < 0.05 ? ['SWAPDB', this.int(4), this.int(4)] : ['COPY', k, this.key(k.split(':')[0]!)]),
    ])();
  }

  private list(): Cmd {
    const k = this.key('lst');
    return this.pick<() => Cmd>([
      () => ['RPUSH', k, ...Array.from({ length: 1 + this.int(5) }, () => this.val())],
      () => ['LPUSH', k, this.val(), this.val()],
      () => ['LPUSHX', k, this.val()],
      () => ['RPUSHX', k, this.val()],
      () => ['LPOP', k],
      () => ['RPOP', k, 1 + this.int(3)],
      () => ['LINSERT', k, this.pick(['BEFORE', 'AFTER']), this.val(), this.val()],
      () => ['LSET', k, this.int(6) - 3, this.val()],
      () => ['LREM', k, this.int(5) - 2, this.val()],
      () => ['LTRIM', k, this.int(3), 10 + this.int(10)],
      () => ['LMOVE', k, this.key('lst'), this.pick(['LEFT', 'RIGHT']), this.pick(['LEFT', 'RIGHT'])],
      () => ['RPOPLPUSH', k, this.key('lst')],
      () => ['LMPOP', 2, k, this.key('lst'), this.pick(['LEFT', 'RIGHT']), 'COUNT', 1 + this.int(3)],
      () => ['SORT', this.pick([k, this.key('set')]), 'ALPHA', this.pick(['ASC', 'DESC']), 'LIMIT', 0, 1 + this.int(6), 'STORE', this.key('lst')],
    ])();
  }

  private set(): Cmd {
    const k = this.key('set');
    return this.pick<() => Cmd>([
      () => ['SADD', k, ...Array.from({ length: 1 + this.int(6) }, () => this.member())],
      () => ['SADD', k, this.int(100), this.int(100)],
      () => ['SREM', k, this.member(), this.member()],
      () => ['SMOVE', k, this.key('set'), this.member()],
      () => ['SPOP', k],
      () => ['SPOP', k, 1 + this.int(4)],
      () => ['SINTERSTORE', this.key('set'), k, this.key('set')],
      () => ['SUNIONSTORE', this.key('set'), k, this.key('set')],
      () => ['SDIFFSTORE', this.key('set'), k, this.key('set')],
    ])();
  }

  private score(): string {
    const r = this.r();
    if (r < 0.05) return this.pick(['inf', '-inf', '+inf']);
    if (r < 0.5) return String(this.int(100) - 50);
    return (this.r() * 200 - 100).toPrecision(1 + this.int(17));
  }

  private zset(): Cmd {
    const k = this.key('zst');
    return this.pick<() => Cmd>([
      () => ['ZADD', k, this.score(), this.member(), this.score(), this.member()],
      () => ['ZADD', k, this.pick(['NX', 'XX', 'GT', 'LT']), 'CH', this.score(), this.member()],
      () => ['ZADD', k, 'INCR', this.int(10), this.member()],
      () => ['ZINCRBY', k, this.r() * 10 - 5, this.member()],
      () => ['ZREM', k, this.member(), this.member()],
      () => ['ZREMRANGEBYSCORE', k, `(${this.int(50) - 25}`, this.int(50)],
      () => ['ZREMRANGEBYRANK', k, this.int(3), this.int(3) + 1],
      () => ['ZREMRANGEBYLEX', k, '[m1', '(m2'],
      () => ['ZUNIONSTORE', this.key('zst'), 2, k, this.key('zst'), 'WEIGHTS', this.int(4), 1.5, 'AGGREGATE', this.pick(['SUM', 'MIN', 'MAX'])],
      () => ['ZINTERSTORE', this.key('zst'), 2, k, this.key('set')],
      () => ['ZDIFFSTORE', this.key('zst'), 2, k, this.key('zst')],
      () => ['ZPOPMIN', k],
      () => ['ZPOPMAX', k, 1 + this.int(3)],
      () => ['ZMPOP', 2, k, this.key('zst'), this.pick(['MIN', 'MAX']), 'COUNT', 2],
      () => ['ZRANGESTORE', this.key('zst'), k, 0, this.int(5)],
      () => ['ZRANGESTORE', this.key('zst'), k, '-inf', this.int(50), 'BYSCORE', 'LIMIT', 0, 3],
    ])();
  }

  private hash(): Cmd {
    const k = this.key('hsh');
    const f = (): string => `f${this.int(20)}`;
    return this.pick<() => Cmd>([
      () => ['HSET', k, f(), this.val(), f(), this.val()],
      () => ['HMSET', k, f(), this.val()],
      () => ['HSETNX', k, f(), this.val()],
      () => ['HDEL', k, f(), f()],
      () => ['HINCRBY', k, `n${this.int(5)}`, this.int(100) - 50],
      () => ['HINCRBYFLOAT', k, `x${this.int(5)}`, `${this.int(10)}.${this.int(100)}`],
    ])();
  }

  private stream(): Cmd {
    const k = `stm:${this.int(4)}`;
    const g = `g${this.int(2)}`;
    const c = `c${this.int(3)}`;
    return this.pick<() => Cmd>([
      () => ['XADD', k, '*', 'f', this.val(), 'g', this.val()],
      () => ['XADD', k, '*', `f${this.int(3)}`, this.val()],
      () => ['XADD', k, 'MAXLEN', '~', 20 + this.int(10), '*', 'f', this.val()],
      () => ['XADD', k, 'MAXLEN', 30, '*', 'f', this.val()],
      () => ['XTRIM', k, 'MAXLEN', '~', 25],
      () => ['XDEL', k, `${this.int(3)}-0`],
      () => ['XGROUP', 'CREATE', k, g, this.pick(['$', '0']), 'MKSTREAM'],
      () => ['XGROUP', 'CREATECONSUMER', k, g, c],
      () => ['XGROUP', 'DELCONSUMER', k, g, c],
      () => ['XGROUP', 'SETID', k, g, '0'],
      () => ['XREADGROUP', 'GROUP', g, c, 'COUNT', 1 + this.int(3), 'STREAMS', k, '>'],
      () => ['XREADGROUP', 'GROUP', g, c, 'COUNT', 2, 'NOACK', 'STREAMS', k, '>'],
      () => ['XAUTOCLAIM', k, g, c, 0, '0', 'COUNT', 2],
      () => ['XCLAIM', k, g, c, 0, '0-1'],
    ])();
  }
}

export const WORKLOAD_LIBRARY = "#!lua name=wl\nredis.register_function('wl_set', function(keys, args) return redis.call('set', keys[1], args[1]) end)";
