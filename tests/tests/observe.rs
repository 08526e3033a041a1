//! What the library tells a subscriber and a metrics recorder.
//!
//! A subscriber of the test's own collects every span and event. Every operation of the public API is
//! run (table-driven, like the deadline table) on a tenant handle of each of the three strategies, and
//! each must open its span, named `odm.{operation}`, with OpenTelemetry's database fields and the tenant,
//! its strategy and the model. The documents and filters carry planted values, and no span or event may
//! hold one. The table is checked against the library's source: an operation builder, or a method of
//! `ModelHandle`, with no row here fails `every_operation_has_a_row`.
//!
//! The metrics recorder is `metrics-util`'s debugging recorder, installed for the test's thread.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

use futures_util::TryStreamExt;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use odm_core::prelude::*;
use odm_core::{Projection, Ref, Strategy, Tenants, Write};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A value planted in every document and filter; it must never reach a span or an event.
const MARKER: &str = "planted-secret-4f1e9c";
/// A planted number, in filters and in a value the rules refuse.
const MARKER_N: i32 = 7_319_457;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "tags")]
struct Tag {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "notes", timestamps, version)]
struct Note {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    title: String,
    #[field(range(min = 0, max = 10_000_000))]
    n: i32,
    tag: Option<Ref<Tag>>,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
    #[serde(rename = "__v", default)]
    version: Option<i64>,
}

fn note(title: &str) -> Note {
    Note {
        id: None,
        title: format!("{title} {MARKER}"),
        n: MARKER_N,
        tag: None,
        created_at: None,
        updated_at: None,
        version: None,
    }
}

// ---- a subscriber that keeps everything

#[derive(Debug, Clone, Default)]
struct SpanRecord {
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct EventRecord {
    level: tracing::Level,
    span: Option<String>,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Captured {
    spans: Vec<SpanRecord>,
    events: Vec<EventRecord>,
}

/// What each test thread recorded. One subscriber, set globally once, serves every test: thread-local
/// subscribers in tests that run in parallel make `tracing`'s per-callsite interest cache flaky (a
/// callsite first met on a thread with no subscriber can stay disabled for the others). Each test runs
/// on a current-thread runtime, so its operations' spans and events are recorded under its thread.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<HashMap<ThreadId, Captured>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

/// Where a span's record is (the thread that opened it, the index), kept in the span's extensions.
struct Index(ThreadId, usize);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut record = SpanRecord {
            name: attrs.metadata().name().to_owned(),
            ..SpanRecord::default()
        };
        attrs.record(&mut Fields(&mut record.fields));
        let thread = std::thread::current().id();
        let mut all = self.0.lock().unwrap();
        let captured = all.entry(thread).or_default();
        captured.spans.push(record);
        let index = captured.spans.len() - 1;
        ctx.span(id)
            .unwrap()
            .extensions_mut()
            .insert(Index(thread, index));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let extensions = span.extensions();
        let Some(Index(thread, i)) = extensions.get::<Index>() else {
            return;
        };
        let mut all = self.0.lock().unwrap();
        if let Some(span) = all.get_mut(thread).and_then(|c| c.spans.get_mut(*i)) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let span = ctx.event_span(event).map(|s| s.name().to_owned());
        let mut all = self.0.lock().unwrap();
        let captured = all.entry(std::thread::current().id()).or_default();
        captured.events.push(EventRecord {
            level: *event.metadata().level(),
            span,
            fields,
        });
    }
}

impl Capture {
    /// What this thread recorded since the last `take`.
    fn take(&self) -> Captured {
        self.0
            .lock()
            .unwrap()
            .remove(&std::thread::current().id())
            .unwrap_or_default()
    }

    /// The capture of every test: a subscriber of the library's spans and events up to debug level
    /// (so filter shapes are recorded too), set globally on first use. Clears this thread's records.
    fn install() -> Capture {
        static CAPTURE: OnceLock<Capture> = OnceLock::new();
        let capture = CAPTURE.get_or_init(|| {
            let capture = Capture::default();
            let filter = tracing_subscriber::filter::Targets::new()
                .with_target("odm", tracing::Level::DEBUG);
            tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(capture.clone().with_filter(filter)),
            )
            .expect("the only global subscriber");
            capture
        });
        capture.take();
        capture.clone()
    }
}

// ---- the table

type Run<'a> = Pin<Box<dyn Future<Output = String> + 'a>>;

/// One row: the builders and methods it covers, the span it must open, and the operation awaited.
struct Row<'a> {
    covers: &'static [&'static str],
    span: &'static str,
    run: Run<'a>,
}

/// The operation's outcome, for the failure message (an error is fine: the span must still be there).
fn outcome<T: std::fmt::Debug>(r: odm_core::Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {}", format!("{v:?}").len()),
        Err(e) => format!("error {e}"),
    }
}

/// The rows. Kept as one function so `every_operation_has_a_row` can read the names it covers.
fn rows<'a>(notes: &'a ModelHandle<Note>, existing: &'a Note) -> Vec<Row<'a>> {
    let id = existing.id.unwrap();
    let row = |covers: &'static [&'static str], span: &'static str, run: Run<'a>| Row {
        covers,
        span,
        run,
    };
    let planted = doc! { "title": MARKER, "n": { "$in": [MARKER_N] } };
    vec![
        row(
            &["create", "Create"],
            "odm.create",
            Box::pin(async move { outcome(notes.create(note("c")).await) }),
        ),
        row(
            &["insert_many", "InsertMany"],
            "odm.insert_many",
            Box::pin(async move { outcome(notes.insert_many([note("m1"), note("m2")]).await) }),
        ),
        row(
            &["save", "Save"],
            "odm.save",
            Box::pin(async move {
                let mut value = notes.find_by_id(id).required().await.unwrap();
                value.n = MARKER_N - 1;
                outcome(notes.save(&mut value).await)
            }),
        ),
        row(
            &["find", "Find"],
            "odm.find",
            Box::pin({
                let planted = planted.clone();
                async move { outcome(notes.find(planted).await) }
            }),
        ),
        row(
            &["PageFind"],
            "odm.page_after",
            Box::pin(async move {
                outcome(
                    notes
                        .find(Note::fields().title.eq(MARKER))
                        .page_after(None, 10)
                        .await,
                )
            }),
        ),
        row(
            &["find_and_count"],
            "odm.find_and_count",
            Box::pin(async move {
                outcome(
                    notes
                        .find_and_count(notes.find(Note::fields().title.eq(MARKER)))
                        .await,
                )
            }),
        ),
        row(
            &["Projected"],
            "odm.find",
            Box::pin(async move {
                outcome(
                    notes
                        .find(Note::fields().title.eq(MARKER))
                        .project(Projection::new().include(&Note::fields().title))
                        .await,
                )
            }),
        ),
        row(
            &["stream"],
            "odm.find",
            Box::pin(async move {
                match notes.find(Note::fields().n.eq(MARKER_N)).stream().await {
                    Ok(s) => outcome(s.try_collect::<Vec<_>>().await),
                    Err(e) => outcome::<()>(Err(e)),
                }
            }),
        ),
        row(
            &["Populate"],
            "odm.populate",
            Box::pin(async move {
                outcome(
                    notes
                        .find(Note::fields().n.eq(MARKER_N))
                        .populate(Note::fields().tag)
                        .await
                        .map(|p| p.len()),
                )
            }),
        ),
        row(
            &["find_one", "FindOne"],
            "odm.find_one",
            Box::pin({
                let planted = planted.clone();
                async move { outcome(notes.find_one(planted).await) }
            }),
        ),
        row(
            &["find_by_id"],
            "odm.find_one",
            Box::pin(async move { outcome(notes.find_by_id(id).await) }),
        ),
        row(
            &["Required"],
            "odm.find_one",
            Box::pin(async move { outcome(notes.find_by_id(id).required().await) }),
        ),
        row(
            &["count", "Count"],
            "odm.count",
            Box::pin({
                let planted = planted.clone();
                async move { outcome(notes.count(planted).await) }
            }),
        ),
        row(
            &["exists", "Exists"],
            "odm.exists",
            Box::pin(async move { outcome(notes.exists(Note::fields().title.eq(MARKER)).await) }),
        ),
        row(
            &["distinct", "Distinct"],
            "odm.distinct",
            Box::pin({
                let planted = planted.clone();
                async move { outcome(notes.distinct("title", planted).await) }
            }),
        ),
        row(
            &["aggregate", "Aggregate"],
            "odm.aggregate",
            Box::pin(async move {
                outcome(
                    notes
                        .aggregate([doc! { "$match": { "title": { "$ne": MARKER } } }])
                        .await,
                )
            }),
        ),
        row(
            &["aggregate stream"],
            "odm.aggregate",
            Box::pin(async move {
                match notes
                    .aggregate([doc! { "$match": { "n": MARKER_N } }])
                    .stream()
                    .await
                {
                    Ok(s) => outcome(s.try_collect::<Vec<_>>().await),
                    Err(e) => outcome::<()>(Err(e)),
                }
            }),
        ),
        row(
            &["update_one", "UpdateOp"],
            "odm.update",
            Box::pin(async move {
                outcome(
                    notes
                        .update_one(doc! { "_id": id }, doc! { "$set": { "n": MARKER_N } })
                        .await,
                )
            }),
        ),
        row(
            &["update_many"],
            "odm.update",
            Box::pin(async move {
                outcome(
                    notes
                        .update_many(
                            Note::fields().n.eq(MARKER_N),
                            doc! { "$set": { "n": MARKER_N } },
                        )
                        .await,
                )
            }),
        ),
        row(
            &["replace_one", "Replace"],
            "odm.replace_one",
            Box::pin(async move {
                let mut value = existing.clone();
                value.title = format!("replaced {MARKER}");
                value.version = None;
                outcome(notes.replace_one(doc! { "_id": id }, value).await)
            }),
        ),
        row(
            &["find_one_and_update", "FindOneAndUpdate"],
            "odm.find_one_and_update",
            Box::pin(async move {
                outcome(
                    notes
                        .find_one_and_update(doc! { "_id": id }, doc! { "$set": { "n": MARKER_N } })
                        .await,
                )
            }),
        ),
        row(
            &["find_one_and_replace", "FindOneAndReplace"],
            "odm.find_one_and_replace",
            Box::pin(async move {
                let mut value = existing.clone();
                value.title = format!("replaced again {MARKER}");
                value.version = None;
                outcome(notes.find_one_and_replace(doc! { "_id": id }, value).await)
            }),
        ),
        row(
            &["ProjectedModify"],
            "odm.find_one_and_modify",
            Box::pin(async move {
                outcome(
                    notes
                        .find_one_and_update(
                            Note::fields().n.eq(MARKER_N),
                            doc! { "$set": { "n": 1 } },
                        )
                        .project(Projection::new().include(&Note::fields().title))
                        .await,
                )
            }),
        ),
        row(
            &["bulk_write", "BulkWrite"],
            "odm.bulk_write",
            Box::pin(async move {
                outcome(
                    notes
                        .bulk_write([
                            Write::insert_one(note("b")),
                            Write::update_many(
                                Note::fields().n.eq(MARKER_N),
                                doc! { "$set": { "n": 2 } },
                            ),
                        ])
                        .await,
                )
            }),
        ),
        row(
            &["find_one_and_delete", "FindOneAndDelete"],
            "odm.find_one_and_delete",
            Box::pin(async move {
                outcome(
                    notes
                        .find_one_and_delete(Note::fields().title.eq(MARKER))
                        .await,
                )
            }),
        ),
        row(
            &["delete_one", "Delete"],
            "odm.delete",
            Box::pin(
                async move { outcome(notes.delete_one(Note::fields().title.eq(MARKER)).await) },
            ),
        ),
        row(
            // `Note` has no `soft_delete`: the refusal is observed like any failed operation.
            &["restore", "Restore"],
            "odm.restore",
            Box::pin({
                let planted = planted.clone();
                async move { outcome(notes.restore(planted).await) }
            }),
        ),
        row(
            &["delete_many"],
            "odm.delete",
            Box::pin(
                async move { outcome(notes.delete_many(Note::fields().n.eq(MARKER_N)).await) },
            ),
        ),
        row(
            &["sync_indexes"],
            "odm.sync_indexes",
            Box::pin(async move { outcome(notes.sync_indexes().await) }),
        ),
        row(
            &["shard_collection"],
            "odm.shard_collection",
            Box::pin(async move { outcome(notes.shard_collection().await) }),
        ),
        row(
            &["diff_indexes"],
            "odm.diff_indexes",
            Box::pin(async move { outcome(notes.diff_indexes().await) }),
        ),
        row(
            &["list_indexes"],
            "odm.list_indexes",
            Box::pin(async move { outcome(notes.list_indexes().await) }),
        ),
        row(
            &["sync_schema"],
            "odm.sync_schema",
            Box::pin(async move { outcome(notes.sync_schema().await) }),
        ),
        row(
            &["watch", "Watch"],
            "odm.watch",
            Box::pin(async move { outcome(notes.watch().await.map(|_| ())) }),
        ),
    ]
}

#[tokio::test]
async fn every_operation_has_a_row() {
    // Rows are built without a server: building a builder does no I/O.
    let conn = Connection::options("mongodb://127.0.0.1:9")
        .verify(false)
        .connect()
        .await
        .unwrap();
    let notes = conn.model::<Note>();
    let existing = Note {
        id: Some(ObjectId::new()),
        ..note("x")
    };
    let rows = rows(&notes, &existing);
    let missing = odm_tests::surface::operations_without_a_row(
        rows.iter().flat_map(|r| r.covers.iter().copied()),
    );
    assert!(
        missing.is_empty(),
        "operations with no row in the span table: {missing:?}; add one to `rows`"
    );
}

/// Where a strategy keeps the tenant `acme`'s notes: (database, collection).
fn placed(strategy: &Strategy, db: &str) -> (String, String) {
    match strategy {
        Strategy::DatabasePerTenant { prefix } => (format!("{prefix}acme"), "notes".into()),
        Strategy::CollectionPerTenant { .. } => (db.into(), "acme.notes".into()),
        _ => (db.into(), "notes".into()),
    }
}

async fn every_operation_opens_its_span(strategy: Strategy, db: &str) {
    let conn = Connection::options(&odm_tests::uri())
        .slow_operation(Duration::ZERO)
        .connect()
        .await
        .unwrap()
        .use_db(db)
        .unwrap();
    let tenants = Tenants::new(conn.clone(), strategy.clone()).unwrap();
    let (database, collection) = placed(&strategy, db);
    conn.database().drop().await.unwrap();
    conn.use_db(&database)
        .unwrap()
        .database()
        .drop()
        .await
        .unwrap();
    let tenant = tenants.get("acme").unwrap();
    let notes = tenant.model::<Note>();
    let existing = notes.create(note("existing")).await.unwrap();

    let capture = Capture::install();
    let mut failures = Vec::new();
    for row in rows(&notes, &existing) {
        capture.take();
        let outcome = row.run.await;
        let captured = capture.take();
        let Some(span) = captured.spans.iter().find(|s| s.name == row.span) else {
            failures.push(format!(
                "{:?}: no span {} ({outcome}); spans: {:?}",
                row.covers,
                row.span,
                captured.spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            ));
            continue;
        };
        let expect = [
            ("db.system.name", "mongodb"),
            ("db.namespace", database.as_str()),
            ("db.collection.name", collection.as_str()),
            ("odm.model", "Note"),
            ("odm.tenant", "acme"),
            ("odm.strategy", strategy.name()),
            ("odm.operation", row.span.trim_start_matches("odm.")),
            ("server.address", "127.0.0.1"),
        ];
        for (field, value) in expect {
            if span.fields.get(field).map(String::as_str) != Some(value) {
                failures.push(format!(
                    "{:?}: `{field}` is {:?}, not {value:?} ({outcome})",
                    row.covers,
                    span.fields.get(field)
                ));
            }
        }
        if !span.fields.contains_key("db.operation.name") {
            failures.push(format!("{:?}: no db.operation.name", row.covers));
        }
        // A failed operation says what kind of failure, and only then.
        if outcome.starts_with("error") != span.fields.contains_key("error.type") {
            failures.push(format!(
                "{:?}: error.type {:?} for {outcome}",
                row.covers,
                span.fields.get("error.type")
            ));
        }
        // The slow threshold is zero: every operation warns, with its fields.
        let warned = captured.events.iter().any(|e| {
            e.level == tracing::Level::WARN
                && e.fields.get("odm.operation").map(String::as_str)
                    == Some(row.span.trim_start_matches("odm."))
                && e.fields.get("odm.tenant").map(String::as_str) == Some("acme")
                && e.fields.contains_key("duration_ms")
        });
        if !warned {
            failures.push(format!("{:?}: no slow-operation warning", row.covers));
        }
        // Nothing planted reaches a span or an event.
        let everything = format!(
            "{:?} {:?}",
            captured.spans,
            captured
                .events
                .iter()
                .map(|e| &e.fields)
                .collect::<Vec<_>>()
        );
        if everything.contains(MARKER) || everything.contains(&MARKER_N.to_string()) {
            failures.push(format!(
                "{:?}: a planted value was recorded: {everything}",
                row.covers
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "current_thread")]
async fn spans_database_per_tenant() {
    every_operation_opens_its_span(Strategy::database_per_tenant("observe_t_"), "observe_dbt")
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn spans_collection_per_tenant() {
    every_operation_opens_its_span(Strategy::collection_per_tenant(), "observe_cpt").await;
}

#[tokio::test(flavor = "current_thread")]
async fn spans_shared_collection() {
    every_operation_opens_its_span(Strategy::shared_collection(), "observe_shared").await;
}

#[tokio::test(flavor = "current_thread")]
async fn spans_count_documents_and_show_filter_shapes() {
    let conn = odm_tests::connect("observe_counts").await;
    let notes = conn.model::<Note>();
    notes
        .insert_many([note("a"), note("b"), note("c")])
        .await
        .unwrap();
    let capture = Capture::install();

    notes.find(Note::fields().n.gte(MARKER_N)).await.unwrap();
    let captured = capture.take();
    let find = &captured.spans[0];
    assert_eq!(find.name, "odm.find");
    assert_eq!(find.fields["db.response.returned_rows"], "3");
    assert_eq!(find.fields["odm.filter"], r#"{"n": {"$gte": ?}}"#);
    assert!(!find.fields.contains_key("odm.tenant"), "{find:?}");

    notes
        .update_many(doc! {}, doc! { "$set": { "n": 1 } })
        .await
        .unwrap();
    let captured = capture.take();
    assert_eq!(captured.spans[0].fields["odm.documents_affected"], "3");

    notes.delete_many(doc! {}).await.unwrap();
    let captured = capture.take();
    assert_eq!(captured.spans[0].fields["odm.documents_affected"], "3");
}

#[tokio::test(flavor = "current_thread")]
async fn failures_are_events_without_values() {
    let conn = odm_tests::connect("observe_failures").await;
    let notes = conn.model::<Note>();
    let capture = Capture::install();

    // A value the rules refuse: an event names the field and the rule, never the value.
    let mut bad = note("bad");
    bad.n = -MARKER_N;
    assert!(notes.create(bad).await.is_err());
    let captured = capture.take();
    assert_eq!(captured.spans[0].fields["error.type"], "validation");
    let event = captured
        .events
        .iter()
        .find(|e| e.fields.get("odm.event").map(String::as_str) == Some("validation_failed"))
        .expect("a validation event");
    assert_eq!(event.span.as_deref(), Some("odm.create"));
    assert_eq!(event.fields["fields"], "n:range");
    let everything = format!("{:?} {:?}", captured.spans, event.fields);
    assert!(!everything.contains(&MARKER_N.to_string()), "{everything}");
    assert!(!everything.contains(MARKER), "{everything}");

    // A stale save: a version conflict event.
    let mut first = notes.create(note("v")).await.unwrap();
    let mut stale = first.clone();
    notes.save(&mut first).await.unwrap();
    capture.take();
    assert!(notes.save(&mut stale).await.is_err());
    let captured = capture.take();
    assert_eq!(captured.spans[0].fields["error.type"], "version_conflict");
    assert!(captured
        .events
        .iter()
        .any(|e| e.fields.get("odm.event").map(String::as_str) == Some("version_conflict")));
}

fn counter(
    snapshot: &[(
        metrics_util::CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )],
    name: &str,
    labels: &[(&str, &str)],
) -> u64 {
    snapshot
        .iter()
        .filter(|(key, ..)| {
            key.key().name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.key().labels().any(|l| l.key() == *k && l.value() == *v))
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => *n,
            DebugValue::Histogram(h) => h.len() as u64,
            DebugValue::Gauge(g) => g.into_inner() as u64,
        })
        .sum()
}

#[tokio::test(flavor = "current_thread")]
async fn metrics_count_operations_and_fold_tenants_past_the_bound() {
    let conn = Connection::options(&odm_tests::uri())
        .tenant_metric_labels(2)
        .connect()
        .await
        .unwrap()
        .use_db("observe_metrics")
        .unwrap();
    conn.database().drop().await.unwrap();
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);

    for id in ["t1", "t2", "t3", "t4"] {
        let notes = tenants.get(id).unwrap().model::<Note>();
        notes.create(note(id)).await.unwrap();
        notes.find(doc! {}).await.unwrap();
    }
    let mut bad = note("bad");
    bad.n = -1;
    let t1 = tenants.get("t1").unwrap().model::<Note>();
    assert!(t1.create(bad).await.is_err());
    conn.model::<Note>().count(doc! {}).await.unwrap();

    let snapshot = snapshotter.snapshot().into_vec();
    let ops = odm_core::observe::METRIC_OPERATIONS;
    for (tenant, n) in [("t1", 3), ("t2", 2), ("other", 4), ("none", 1)] {
        assert_eq!(
            counter(&snapshot, ops, &[("tenant", tenant), ("model", "Note")]),
            n,
            "operations of {tenant}: {snapshot:#?}"
        );
    }
    assert_eq!(counter(&snapshot, ops, &[("tenant", "t3")]), 0);
    assert_eq!(
        counter(
            &snapshot,
            ops,
            &[("operation", "find"), ("tenant", "other")]
        ),
        2
    );
    assert_eq!(
        counter(
            &snapshot,
            odm_core::observe::METRIC_ERRORS,
            &[
                ("tenant", "t1"),
                ("error.type", "validation"),
                ("operation", "create")
            ]
        ),
        1
    );
    assert_eq!(
        counter(
            &snapshot,
            odm_core::observe::METRIC_DURATION,
            &[("operation", "create")]
        ),
        5
    );
    assert_eq!(
        counter(&snapshot, odm_core::observe::METRIC_TENANTS_CACHED, &[]),
        4
    );
}

/// "Who is big": each tenant's documents and bytes, counted over its own documents only, under each
/// strategy, largest first.
#[tokio::test(flavor = "current_thread")]
async fn usage_reports_each_tenants_documents_and_size() {
    for (strategy, db) in [
        (
            Strategy::database_per_tenant("observe_u_"),
            "observe_usage_dbt",
        ),
        (Strategy::collection_per_tenant(), "observe_usage_cpt"),
        (Strategy::shared_collection(), "observe_usage_shared"),
    ] {
        let conn = odm_tests::connect(db).await;
        let tenants = Tenants::new(conn.clone(), strategy.clone()).unwrap();
        for id in ["small", "big"] {
            let (database, _) = match &strategy {
                Strategy::DatabasePerTenant { prefix } => (format!("{prefix}{id}"), ()),
                _ => (db.to_owned(), ()),
            };
            conn.use_db(&database)
                .unwrap()
                .database()
                .drop()
                .await
                .unwrap();
        }
        let small = tenants.get("small").unwrap().model::<Note>();
        let big = tenants.get("big").unwrap().model::<Note>();
        small.create(note("s")).await.unwrap();
        big.insert_many((0..3).map(|i| note(&format!("b{i}"))))
            .await
            .unwrap();

        let one = tenants.get("small").unwrap().usage::<Note>().await.unwrap();
        assert_eq!(one.documents, 1, "{strategy:?}");
        assert!(one.bytes > 50, "{strategy:?}: {one:?}");
        let all = tenants
            .usage::<Note>(["small", "big", "none_yet"])
            .await
            .unwrap();
        let order: Vec<_> = all
            .iter()
            .map(|(id, u)| (id.as_str(), u.documents))
            .collect();
        assert_eq!(
            order,
            [("big", 3), ("small", 1), ("none_yet", 0)],
            "{strategy:?}"
        );
    }
}

/// "Who is busy" across the processes of a service: each publishes its counts into a control database
/// (here two clients stand for two processes), and the sum over both names the busiest tenants. A
/// published window starts the counts over, so nothing is counted twice.
#[tokio::test(flavor = "current_thread")]
async fn published_activity_adds_up_every_process() {
    let control = odm_tests::connect("observe_published_control").await;
    let mut processes = Vec::new();
    for _ in 0..2 {
        let conn = Connection::options(&odm_tests::uri())
            .tenant_activity(2)
            .connect()
            .await
            .unwrap()
            .use_db("observe_published")
            .unwrap();
        processes.push(conn);
    }
    processes[0].database().drop().await.unwrap();

    // (process, tenant, operations): "busy" is busiest only once both processes are added up.
    let table: &[(usize, &str, u64)] = &[
        (0, "busy", 3),
        (1, "busy", 3),
        (0, "steady", 5),
        (1, "rare", 1),
        (1, "late", 2),
    ];
    for &(p, id, operations) in table {
        let tenants = Tenants::new(processes[p].clone(), Strategy::shared_collection()).unwrap();
        let notes = tenants.get(id).unwrap().model::<Note>();
        for _ in 0..operations {
            notes.count(doc! {}).await.unwrap();
        }
    }
    let publishers: Vec<_> = processes
        .iter()
        .map(|conn| conn.publish_tenant_activity(&control, Duration::from_secs(3600)))
        .collect();
    for publisher in &publishers {
        publisher.publish_now().await.unwrap();
    }

    let busiest =
        odm_core::observe::busiest_tenants_published(&control, Duration::from_secs(60), 10)
            .await
            .unwrap();
    let ranked: Vec<(Option<&str>, u64)> = busiest
        .iter()
        .map(|a| (a.tenant.as_deref(), a.operations))
        .collect();
    // Process 1 counts two tenants of its own ("busy", "rare"); "late" is past its bound of 2.
    assert_eq!(
        ranked,
        [
            (Some("busy"), 6),
            (Some("steady"), 5),
            (None, 2),
            (Some("rare"), 1)
        ]
    );
    assert!(busiest
        .iter()
        .all(|a| a.time > Duration::ZERO && a.errors == 0));

    // Published means started over: publishing again adds nothing, and the client's own counts are
    // empty.
    assert!(processes[0].busiest_tenants(10).is_empty());
    publishers[0].publish_now().await.unwrap();
    let again = odm_core::observe::busiest_tenants_published(&control, Duration::from_secs(60), 1)
        .await
        .unwrap();
    assert_eq!(again[0].operations, 6);
    // A window older than `since` is left out.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        odm_core::observe::busiest_tenants_published(&control, Duration::from_millis(10), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// "Who is busy": each tenant's operations counted by the library, ranked most first, with the tenants
/// past the bound counted together; a handle bound straight to the connection is no tenant's.
#[tokio::test(flavor = "current_thread")]
async fn busiest_tenants_ranks_tenants_by_their_operations() {
    let conn = Connection::options(&odm_tests::uri())
        .tenant_activity(3)
        .connect()
        .await
        .unwrap()
        .use_db("observe_busiest")
        .unwrap();
    conn.database().drop().await.unwrap();
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();

    // (tenant, operations, of which failed), run in this order: the first three seen get an entry
    // of their own, the last two share one.
    let table: &[(&str, u64, u64)] = &[
        ("quiet", 1, 0),
        ("busy", 7, 1),
        ("middle", 3, 0),
        ("late_a", 2, 0),
        ("late_b", 3, 1),
    ];
    for &(id, operations, failed) in table {
        let notes = tenants.get(id).unwrap().model::<Note>();
        for i in 0..operations {
            let result = if i < failed {
                let mut bad = note(id);
                bad.n = -1;
                notes.create(bad).await.map(drop)
            } else {
                match i % 3 {
                    0 => notes.create(note(&format!("{id}{i}"))).await.map(drop),
                    1 => notes.count(doc! {}).await.map(drop),
                    _ => notes.find(doc! {}).await.map(drop),
                }
            };
            assert_eq!(result.is_err(), i < failed, "{id} operation {i}");
        }
    }
    // Not a tenant's: not counted.
    conn.model::<Note>().count(doc! {}).await.unwrap();

    let busiest = conn.busiest_tenants(10);
    let ranked: Vec<(Option<&str>, u64, u64)> = busiest
        .iter()
        .map(|a| (a.tenant.as_deref(), a.operations, a.errors))
        .collect();
    assert_eq!(
        ranked,
        [
            (Some("busy"), 7, 1),
            (None, 5, 1),
            (Some("middle"), 3, 0),
            (Some("quiet"), 1, 0),
        ]
    );
    assert!(
        busiest.iter().all(|a| a.time > Duration::ZERO),
        "{busiest:?}"
    );
    assert_eq!(conn.busiest_tenants(2).len(), 2);
    // Every connection of the client counts into one table.
    assert_eq!(
        conn.use_db("observe_busiest_other")
            .unwrap()
            .busiest_tenants(1)[0]
            .tenant
            .as_deref(),
        Some("busy")
    );

    // A new window: the counts start over and every tenant may have an entry again.
    conn.reset_tenant_activity();
    assert!(conn.busiest_tenants(10).is_empty());
    let late = tenants.get("late_b").unwrap().model::<Note>();
    late.count(doc! {}).await.unwrap();
    let busiest = conn.busiest_tenants(10);
    assert_eq!(busiest.len(), 1);
    assert_eq!(busiest[0].tenant.as_deref(), Some("late_b"));
    assert_eq!(busiest[0].operations, 1);
}

/// Counting is off unless asked for: no entry, whatever runs.
#[tokio::test(flavor = "current_thread")]
async fn busiest_tenants_is_empty_when_not_counted() {
    let conn = odm_tests::connect("observe_busiest_off").await;
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let notes = tenants.get("acme").unwrap().model::<Note>();
    notes.create(note("a")).await.unwrap();
    notes.count(doc! {}).await.unwrap();
    assert!(conn.busiest_tenants(10).is_empty());
}
