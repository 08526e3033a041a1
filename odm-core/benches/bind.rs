//! Binding a model to a tenant: `conn.use_db(tenant)?.model::<User>()` for a tenant never seen before, and
//! again for one seen before (the per-request path). No server is needed: binding does no I/O.
// The raw driver is the baseline measured against, so the pipeline-only rule does not apply here.
#![allow(clippy::disallowed_methods)]

mod common;

use std::hint::black_box;

use common::{offline_connection, tenant_name, User};
use criterion::{BatchSize, Criterion};

fn bind(c: &mut Criterion) {
    let (rt, conn) = offline_connection();
    let _guard = rt.enter();
    let mut group = c.benchmark_group("bind");

    let mut next = 0usize;
    let mut buf = String::new();
    group.bench_function("new_tenant", |b| {
        b.iter_batched_ref(
            || {
                next += 1;
                tenant_name(&mut buf, next).to_owned()
            },
            |name| conn.use_db(name).expect("valid name").model::<User>(),
            BatchSize::SmallInput,
        )
    });

    let seen = conn.use_db("tenant_0000042").expect("valid name");
    drop(seen);
    group.bench_function("cached", |b| {
        b.iter(|| {
            conn.use_db(black_box("tenant_0000042"))
                .expect("valid name")
                .model::<User>()
        })
    });

    // The raw driver's own per-request handle, for comparison: `Database` and `Collection` are built
    // (and their names and options copied) on every call.
    let client = conn.client().clone();
    group.bench_function("raw_driver", |b| {
        b.iter(|| {
            client
                .database(black_box("tenant_0000042"))
                .collection::<User>("users")
        })
    });

    let acme = conn.use_db("tenant_acme").expect("valid name");
    group.bench_function("model_only", |b| {
        b.iter(|| black_box(&acme).model::<User>())
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bind(&mut c);
    c.final_summary();
}
