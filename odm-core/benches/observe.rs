//! What observing costs: `find_by_id` through a tenant handle against the server at `MONGODB_URI`, with
//! nobody listening and with a subscriber that records every span's fields (as an exporter would),
//! the two sides interleaved round after round (alternating which goes first), so that the drift of a
//! shared machine falls on both. Prints each side's median time per operation and their ratio.
//!
//! Skipped, with a message, when `MONGODB_URI` is not set: `scripts/test-server run -- cargo bench
//! --bench observe` starts a local server. `BENCH_ROUNDS` (default 41) and `BENCH_OPS` (per round and
//! side, default 200) size the run.
//!
//! By default each round with the subscriber sets it as the thread's default (`with_default`), which
//! puts every dispatch of the round through the scoped-dispatcher path. `BENCH_GLOBAL=1` sets it once as
//! the global default instead, as a service does, behind a switch the rounds turn on and off: off, the
//! library's spans are disabled by the filter (one `enabled` call each), on, they are recorded.
// Dropping the bench database is set-up, not a model operation.
#![allow(clippy::disallowed_methods)]

mod common;

use std::fmt::Write as _;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{user, User};
use odm_core::{Connection, Strategy, Tenants};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes as SpanAttributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// A layer that does what an exporter does with a span: reads every field into storage of its own
/// (`V`), when the span is made and when a field is recorded, and looks at it when the span closes.
struct Recording<V>(PhantomData<fn() -> V>);

/// What a recording layer keeps of a span's fields.
trait Kept: Visit + Default + Send + Sync + 'static {
    fn size(&self) -> usize;
}

/// Every field formatted with `Debug` into one buffer (as a log formatter does).
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Kept for Text {
    fn size(&self) -> usize {
        self.0.len()
    }
}

/// A typed value, as an OpenTelemetry attribute holds it.
#[allow(dead_code)] // held to be looked at, as an exporter would send it
enum Value {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

/// Every field kept as a typed attribute, the way `tracing-opentelemetry`'s visitor does: strings
/// copied, numbers and booleans as they are, `Debug` formatting only for the other values.
#[derive(Default)]
struct Attributes(Vec<(&'static str, Value)>);

impl Visit for Attributes {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name(), Value::Str(value.to_owned())));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push((field.name(), Value::I64(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name(), Value::U64(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push((field.name(), Value::F64(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push((field.name(), Value::Bool(value)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name(), Value::Str(format!("{value:?}"))));
    }
}

impl Kept for Attributes {
    fn size(&self) -> usize {
        self.0.len()
    }
}

impl<S, V: Kept> Layer<S> for Recording<V>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &SpanAttributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut kept = V::default();
        attrs.record(&mut kept);
        ctx.span(id).unwrap().extensions_mut().insert(kept);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        if let Some(kept) = extensions.get_mut::<V>() {
            values.record(kept);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        let extensions = span.extensions();
        std::hint::black_box(extensions.get::<V>().map(Kept::size));
    }
}

/// Whether the global subscriber of `BENCH_GLOBAL=1` records the library's spans.
static RECORDING: AtomicBool = AtomicBool::new(false);

/// A global filter in front of the layers: the library's spans at INFO while `RECORDING` is on, nothing
/// otherwise. Its interest is "sometimes", so the switch is read at every span.
struct Switch;

impl<S: tracing::Subscriber> Layer<S> for Switch {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.target().starts_with("odm") && *meta.level() <= tracing::Level::INFO {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        RECORDING.load(Ordering::Relaxed)
            && meta.target().starts_with("odm")
            && *meta.level() <= tracing::Level::INFO
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let Ok(uri) = std::env::var("MONGODB_URI") else {
        eprintln!("observe: MONGODB_URI is not set; skipped (scripts/test-server run -- cargo bench --bench observe)");
        return;
    };
    let rounds = env("BENCH_ROUNDS", 41);
    let ops = env("BENCH_OPS", 200);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn = rt
        .block_on(Connection::connect(&uri))
        .expect("the server answers")
        .use_db("bench_observe")
        .expect("name");
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).expect("strategy");
    let users = tenants.get("acme").expect("tenant").model::<User>();
    let id = rt.block_on(async {
        conn.database().drop().await.expect("drop");
        users
            .create(user(1))
            .await
            .expect("seed")
            .id
            .expect("an id")
    });

    let run = |n: usize| -> Duration {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..n {
                std::hint::black_box(users.find_by_id(id).await.expect("find"));
            }
            started.elapsed()
        })
    };
    // The library's spans at INFO, as a service exporting them would filter (`odm=info`).
    // `BENCH_LAYER`: `text` (the default) formats every field into a buffer; `attributes` keeps each
    // as a typed attribute, as an OpenTelemetry layer does; `registry` keeps the spans in the registry
    // but records no field, to tell the spans' own cost from the recording layer's.
    let layer = std::env::var("BENCH_LAYER").unwrap_or_else(|_| "text".into());
    // The filter is global, as a service sets `EnvFilter` up, in front of the layers.
    let subscriber = || {
        let filter =
            tracing_subscriber::filter::Targets::new().with_target("odm", tracing::Level::INFO);
        let text = (layer == "text").then_some(Recording::<Text>(PhantomData));
        let attributes = (layer == "attributes").then_some(Recording::<Attributes>(PhantomData));
        tracing_subscriber::registry()
            .with(filter)
            .with(text)
            .with(attributes)
    };
    let global = std::env::var("BENCH_GLOBAL").is_ok_and(|v| v == "1");
    if global {
        let text = (layer == "text").then_some(Recording::<Text>(PhantomData));
        let attributes = (layer == "attributes").then_some(Recording::<Attributes>(PhantomData));
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry()
                .with(Switch)
                .with(text)
                .with(attributes),
        )
        .expect("no global subscriber yet");
    }
    let measure_off = || {
        RECORDING.store(false, Ordering::Relaxed);
        run(ops).as_secs_f64() / ops as f64
    };
    let measure_on = || {
        if global {
            RECORDING.store(true, Ordering::Relaxed);
            run(ops).as_secs_f64() / ops as f64
        } else {
            tracing::subscriber::with_default(subscriber(), || run(ops)).as_secs_f64() / ops as f64
        }
    };
    // Warm up both sides.
    measure_off();
    measure_on();

    let (mut off, mut on, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = measure_off();
            (a, measure_on())
        } else {
            let b = measure_on();
            (measure_off(), b)
        };
        off.push(a);
        on.push(b);
        ratios.push(b / a);
    }
    let (layer, off_label) = if global {
        (format!("{layer}, global"), "not recording")
    } else {
        (layer, "no subscriber")
    };
    println!(
        "observe/find_by_id ({layer}): {off_label} {:.1} us, recording {:.1} us, median paired ratio {:.4} ({rounds} rounds of {ops})",
        median(off) * 1e6,
        median(on) * 1e6,
        median(ratios)
    );
}
