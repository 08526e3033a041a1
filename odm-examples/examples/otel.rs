//! The library's spans exported to OpenTelemetry: the `tracing-opentelemetry` layer turns each
//! operation's span into an OpenTelemetry client span, here printed by the stdout exporter. A service
//! swaps in the OTLP exporter (`opentelemetry-otlp`) to send them to a collector; nothing else changes.
//!
//! Runs against `MONGODB_URI`, or a local server started by `scripts/test-server`:
//! `scripts/test-server run -- cargo run -p odm-examples --example otel`.

use odm_core::prelude::*;
use odm_core::{Strategy, Tenants};
use opentelemetry::trace::TracerProvider as _;
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "invoices")]
struct Invoice {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    number: u32,
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // The exporter setup: a tracer provider with an exporter, and the layer that feeds it the spans of
    // the library (`odm=info`) beside the service's own.
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    let tracer = provider.tracer("invoice-service");
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info,odm=info"))
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .init();

    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
    let conn = Connection::connect(&uri).await?.use_db("example_otel")?;
    let tenants = Tenants::new(conn, Strategy::shared_collection())?;

    // One request of tenant `acme`: the library's spans are its children, each with the tenant.
    let request = tracing::info_span!("request", tenant = "acme");
    async {
        let invoices = tenants.get("acme")?.model::<Invoice>();
        invoices
            .create(Invoice {
                id: None,
                number: 1,
            })
            .await?;
        let found = invoices.find(doc! { "number": 1 }).await?;
        println!("acme has {} invoice(s) numbered 1", found.len());
        Ok::<(), odm_core::Error>(())
    }
    .instrument(request)
    .await?;

    // Flushes what the exporter holds.
    provider.shutdown()?;
    Ok(())
}
