//! Work on one document on the client, no server: build + validate + encode a `User` the way `create`
//! does (`ModelHandle::prepare`: timestamps, every rule, a generated `_id`, BSON encoding), against
//! encoding the same struct with `bson` alone; and decoding a stored one the way every read does (`Model::from_document`, the derive's
//! generated decoder) against `bson::from_slice` (serde).

mod common;

use std::hint::black_box;

use common::{offline_connection, user, User};
use criterion::Criterion;
use odm_core::bson::{self, oid::ObjectId, DateTime};
use odm_core::Model;

fn document(c: &mut Criterion) {
    let mut group = c.benchmark_group("document");
    let template = user(7);
    let now = DateTime::now();
    let (_rt, conn) = offline_connection();
    let users = conn.model::<User>();

    // `prepare` is `create` without the I/O: timestamps, rules, a generated `_id`, encoding.
    group.bench_function("odm_build_validate_encode", |b| {
        b.iter(|| {
            let mut value = black_box(&template).clone();
            users.prepare(&mut value).expect("a valid user")
        })
    });

    group.bench_function("raw_build_encode", |b| {
        b.iter(|| {
            let mut value = black_box(&template).clone();
            value.created_at = Some(now);
            value.updated_at = Some(now);
            value.id = Some(ObjectId::new());
            bson::to_raw_document_buf(&value).expect("encodes")
        })
    });

    group.bench_function("validate_only", |b| {
        b.iter(|| black_box(&template).validate().expect("a valid user"))
    });

    let mut stored = template.clone();
    stored.touch(now, true);
    stored.id = Some(ObjectId::new());
    let raw = bson::to_raw_document_buf(&stored).expect("encodes");
    assert_eq!(User::from_document(&raw).expect("decodes"), stored);
    group.bench_function("odm_decode", |b| {
        b.iter(|| User::from_document(black_box(&raw)).expect("decodes"))
    });
    group.bench_function("raw_decode", |b| {
        b.iter(|| bson::from_slice::<User>(black_box(raw.as_bytes())).expect("decodes"))
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    document(&mut c);
    c.final_summary();
}
