// The Mongoose side of bench/compare: the same three groups as the Rust benchmarks (odm-core/benches),
// on the same server, with a schema carrying the same rules as the Rust `User`
// (odm-core/benches/common/mod.rs). Prints one JSON object on stdout.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017 node --expose-gc bench.js
//
// Binding runs each N in a child process of its own, so one N's garbage cannot hide the next one's growth.
'use strict';

const { spawnSync } = require('node:child_process');
const mongoose = require('mongoose');

const { Schema } = mongoose;
const { BSON } = mongoose.mongo;

const URI = process.env.MONGODB_URI;
const COUNTS = [1000, 10000, 100000];
const SEED = 1000;
const BATCH = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS || 21);

// Binding measures what `useDb` + `model` cost; Mongoose's defaults would also send `createCollection`
// and `createIndexes` for every tenant's model, which the Rust side never does on bind.
mongoose.set('autoCreate', false);
mongoose.set('autoIndex', false);

const EMAIL_RE = /^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$/;
const ZIP_RE = /^[0-9]{5}$/;

// The same shape check as the Rust side's `email` rule.
function isEmail(value) {
  const at = value.indexOf('@');
  if (at <= 0) return false;
  const domain = value.slice(at + 1);
  return (
    !domain.includes('@') &&
    domain.includes('.') &&
    !domain.startsWith('.') &&
    !domain.endsWith('.') &&
    !/\s/.test(value)
  );
}

const addressSchema = new Schema(
  {
    street: { type: String, minLength: 1, maxLength: 200 },
    city: { type: String, minLength: 1, maxLength: 100 },
    zip: { type: String, match: ZIP_RE },
  },
  { _id: false },
);

const userSchema = new Schema(
  {
    email: {
      type: String,
      match: EMAIL_RE,
      validate: { validator: isEmail, message: 'must be shaped like an e-mail address' },
    },
    name: { type: String, minLength: 1, maxLength: 100 },
    age: { type: Number, min: 0, max: 150 },
    tags: { type: [String], validate: { validator: (v) => v.length <= 10, message: 'at most 10' } },
    address: addressSchema,
  },
  {
    collection: 'users',
    versionKey: false,
    timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' },
  },
);

function user(i) {
  return {
    email: `user${i}@acme.io`,
    name: `User Number ${i}`,
    age: i % 100,
    tags: ['admin', 'beta', 'eu-west'],
    address: { street: `${i} Main Street`, city: 'Springfield', zip: '12345' },
  };
}

function tenantName(i) {
  return `tenant_${String(i).padStart(7, '0')}`;
}

const now = () => process.hrtime.bigint();
const nsSince = (start) => Number(process.hrtime.bigint() - start);

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/** Median ns per call of `fn` over `rounds` rounds of `iters` calls, after one untimed round. */
function timeSync(fn, iters, rounds = 15) {
  for (let i = 0; i < iters; i++) fn(i);
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = now();
    for (let i = 0; i < iters; i++) fn(i);
    samples.push(nsSince(start) / iters);
  }
  return median(samples);
}

async function timeAsync(fn, iters, rounds = 15) {
  for (let i = 0; i < iters; i++) await fn(i);
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = now();
    for (let i = 0; i < iters; i++) await fn(i);
    samples.push(nsSince(start) / iters);
  }
  return median(samples);
}

async function baseConnection() {
  return mongoose.createConnection(URI, { serverSelectionTimeoutMS: 10000 }).asPromise();
}

/** One N of the binding group, in this process: time and memory per tenant, handles kept alive. */
async function bindOne(n) {
  const base = await baseConnection();
  base.useDb('warmup', { useCache: true }).model('User', userSchema);
  const models = new Array(n);
  global.gc();
  global.gc();
  const before = process.memoryUsage();
  const start = now();
  for (let i = 0; i < n; i++) {
    models[i] = base.useDb(tenantName(i), { useCache: true }).model('User', userSchema);
  }
  const bindNs = nsSince(start) / n;
  global.gc();
  global.gc();
  const after = process.memoryUsage();
  // Every tenant again: useDb finds the cached connection, model finds the compiled model.
  const again = now();
  for (let i = 0; i < n; i++) {
    base.useDb(tenantName(i), { useCache: true }).model('User', userSchema);
  }
  const rebindNs = nsSince(again) / n;
  const result = {
    n,
    bind_ns_per_tenant: bindNs,
    rebind_ns_per_tenant: rebindNs,
    heap_bytes_per_tenant: (after.heapUsed - before.heapUsed) / n,
    rss_bytes_per_tenant: (after.rss - before.rss) / n,
  };
  if (models.length !== n) throw new Error('models lost');
  await base.close();
  return result;
}

function bindAll() {
  return COUNTS.map((n) => {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', __filename],
      { env: { ...process.env, BENCH_BIND_N: String(n) }, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) {
      throw new Error(`binding ${n} tenants failed: ${child.stderr}`);
    }
    return JSON.parse(child.stdout);
  });
}

/** The repeated (cached) bind of one tenant, and the first bind over a fresh stream of tenants. */
async function bindTimes() {
  const base = await baseConnection();
  base.useDb('tenant_0000042', { useCache: true }).model('User', userSchema);
  const cached = timeSync(
    () => base.useDb('tenant_0000042', { useCache: true }).model('User', userSchema),
    100000,
  );
  let next = 0;
  const fresh = timeSync(
    () => base.useDb(tenantName(++next), { useCache: true }).model('User', userSchema),
    2000,
    9,
  );
  await base.close();
  return { cached_ns: cached, new_tenant_ns: fresh };
}

async function documentWork() {
  const conn = await baseConnection();
  const User = conn.useDb('bench_doc_mongoose', { useCache: true }).model('User', userSchema);
  const template = user(7);
  const validateEncode = await timeAsync(async () => {
    const d = new User(template);
    d.initializeTimestamps();
    await d.validate();
    return BSON.serialize(d.toBSON());
  }, 5000);
  const validateToBson = await timeAsync(async () => {
    const d = new User(template);
    d.initializeTimestamps();
    await d.validate();
    return d.toBSON();
  }, 5000);
  const rawEncode = timeSync(() => {
    const plain = { _id: new mongoose.Types.ObjectId(), ...template };
    plain.created_at = new Date();
    plain.updated_at = plain.created_at;
    return BSON.serialize(plain);
  }, 20000);
  const stored = new User(template);
  stored.initializeTimestamps();
  const bytes = BSON.serialize(stored.toBSON());
  const plain = BSON.deserialize(bytes);
  const hydrate = timeSync(() => User.hydrate(plain), 20000);
  const decode = timeSync(() => User.hydrate(BSON.deserialize(bytes)), 20000);
  const deserialize = timeSync(() => BSON.deserialize(bytes), 20000);
  await conn.close();
  return {
    build_validate_encode_ns: validateEncode,
    build_validate_to_bson_ns: validateToBson,
    raw_bson_encode_ns: rawEncode,
    hydrate_ns: hydrate,
    deserialize_hydrate_ns: decode,
    raw_bson_decode_ns: deserialize,
  };
}

async function crud() {
  const conn = await baseConnection();
  const reads = conn.useDb('bench_crud_mongoose', { useCache: true });
  const writes = conn.useDb('bench_crud_mongoose_writes', { useCache: true });
  await reads.dropDatabase();
  await writes.dropDatabase();
  const User = reads.model('User', userSchema);
  const UserW = writes.model('User', userSchema);
  await User.insertMany(Array.from({ length: SEED }, (_, i) => user(i)));
  const id = (await User.findOne({ age: 42 }))._id;
  const batch = Array.from({ length: BATCH }, (_, i) => user(i));
  const ops = [
    ['insert_one', 50, async (i) => UserW.create(user(i))],
    ['insert_many_1000', 1, async () => UserW.insertMany(batch)],
    ['find_by_id', 50, async () => {
      if (!(await User.findById(id))) throw new Error('not found');
    }],
    ['find_100_filter_sort', 5, async () => {
      const found = await User.find({ age: { $gte: 18 } }).sort({ age: -1, _id: 1 }).limit(100);
      if (found.length !== 100) throw new Error(`found ${found.length}`);
    }],
    ['update_one', 50, async () => User.updateOne({ _id: id }, { $set: { name: 'Renamed' } })],
    ['delete_one', 50, null],
  ];
  const results = [];
  for (const [op, k, fn] of ops) {
    await UserW.collection.drop().catch(() => {});
    const samples = [];
    for (let round = 0; round <= ROUNDS; round++) {
      let victims = [];
      if (op === 'delete_one') {
        victims = (await UserW.insertMany(Array.from({ length: k }, (_, i) => user(i)))).map((d) => d._id);
      }
      const start = now();
      for (let i = 0; i < k; i++) {
        if (op === 'delete_one') {
          const done = await UserW.deleteOne({ _id: victims[i] });
          if (done.deletedCount !== 1) throw new Error('nothing deleted');
        } else {
          await fn(i);
        }
      }
      // Round 0 warms up.
      if (round > 0) samples.push(nsSince(start) / k / 1000);
    }
    results.push({ op, rounds: ROUNDS, per_round: k, mongoose_us: median(samples) });
  }
  await reads.dropDatabase();
  await writes.dropDatabase();
  const info = await conn.db.admin().buildInfo().catch(() => ({}));
  const server = info.version || 'unknown (buildInfo gives no version)';
  await conn.close();
  return { server, results };
}

async function main() {
  if (!URI) {
    console.error('bench.js needs MONGODB_URI: the server the Rust side measures against');
    process.exit(2);
  }
  if (process.env.BENCH_BIND_N) {
    console.log(JSON.stringify(await bindOne(Number(process.env.BENCH_BIND_N))));
    return;
  }
  const out = {
    mongoose: mongoose.version,
    node: process.version,
    bind_memory: bindAll(),
    bind: await bindTimes(),
    document: await documentWork(),
  };
  const { server, results } = await crud();
  out.server = server;
  out.crud = results;
  console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
