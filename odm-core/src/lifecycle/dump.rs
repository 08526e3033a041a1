//! Export and import of one tenant, in `mongodump`'s format: per collection a `.bson` file (the
//! documents, one after another, as stored) and a `.metadata.json` (the collection's validator and
//! indexes, in canonical extended JSON), so `mongorestore` restores an export, and an import keeps every
//! BSON type exactly.
//!
//! A tenant's documents are exported without the tenant field of a shared collection, so an export
//! fits any placement: an import stamps the tenant again where it needs one.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use mongodb::bson::{doc, Bson, Document, RawDocument, RawDocumentBuf};
use tracing::Instrument;

use super::{pipeline, Fleet, TenantState};
use crate::error::{Error, Result};
use crate::ops::indexes::IndexSpec;
use crate::tenancy::Tenant;

/// The file an export writes beside the collections' files: the tenant, its placement, and per
/// collection the documents and their content hash, which an import checks.
pub const DUMP_MANIFEST: &str = "odm-tenant.json";

/// How many documents an import sends per `insert`.
const IMPORT_BATCH: usize = 1000;

/// What [`Fleet::export`] wrote or [`Fleet::import`] read, per collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpReport {
    /// The tenant.
    pub tenant: String,
    /// Per collection: the documents and their content hash (order-independent, over the documents'
    /// bytes without the tenant field).
    pub collections: Vec<(String, u64, u64)>,
}

impl DumpReport {
    /// Every document of every collection.
    pub fn documents(&self) -> u64 {
        self.collections.iter().map(|c| c.1).sum()
    }
}

/// The content hash of one document, summed (wrapping) over a collection: FNV-1a over the bytes.
pub(crate) fn document_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The document as a placement-neutral one: without the tenant field of a shared collection.
pub(crate) fn neutral(raw: &RawDocument, tenant_field: Option<&str>) -> Result<RawDocumentBuf> {
    let Some(field) = tenant_field else {
        return Ok(raw.to_owned());
    };
    let mut out = RawDocumentBuf::new();
    for element in raw.iter() {
        let (key, value) = element.map_err(|_| corrupt_document())?;
        if key != field {
            out.append_ref(key, value);
        }
    }
    Ok(out)
}

fn corrupt_document() -> Error {
    Error::Unsupported("the server sent a document that is not valid BSON")
}

/// Reads every document of the tenant's collection, placement-neutral, handing each to `each`.
/// Streamed: each cursor batch within the operation timeout of its own.
pub(crate) async fn each_document(
    tenant: &Tenant,
    schema: &'static crate::schema::Schema,
    mut each: impl FnMut(RawDocumentBuf) -> Result<()>,
) -> Result<()> {
    let field = tenant.confine().tenant_field().map(str::to_owned);
    let mut p = pipeline(tenant, schema)?;
    let options = mongodb::options::FindOptions::builder()
        .sort(doc! { "_id": 1 })
        .build();
    let mut docs = p
        .find_stream(doc! {}, options, |raw| Ok(raw.to_owned()))
        .await?;
    while let Some(raw) = docs.next().await {
        each(neutral(&raw?, field.as_deref())?)?;
    }
    Ok(())
}

/// The documents and content hash of the tenant's collection.
pub(crate) async fn census(
    tenant: &Tenant,
    schema: &'static crate::schema::Schema,
) -> Result<(u64, u64)> {
    let (mut n, mut hash) = (0u64, 0u64);
    each_document(tenant, schema, |raw| {
        n += 1;
        hash = hash.wrapping_add(document_hash(raw.as_bytes()));
        Ok(())
    })
    .await?;
    Ok((n, hash))
}

fn io(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::Dump {
        path: path.to_owned(),
        reason: format!("{what}: {e}"),
    }
}

fn metadata(schema: &'static crate::schema::Schema, json_schema: Document) -> Result<Document> {
    let mut indexes = vec![Bson::Document(
        doc! { "v": 2, "key": { "_id": 1 }, "name": "_id_" },
    )];
    // The model's collation, as `sync_indexes` builds its indexes with it.
    let collation = crate::Settings::of(schema)
        .collation
        .and_then(|c| mongodb::bson::to_document(&c).ok());
    for index in schema.indexes {
        let spec = IndexSpec::declared(index)?.of_model(schema);
        let mut d = doc! { "v": 2, "key": spec.keys, "name": spec.name };
        if let Some(collation) = &collation {
            d.insert("collation", collation.clone());
        }
        if spec.unique {
            d.insert("unique", true);
        }
        if spec.sparse {
            d.insert("sparse", true);
        }
        if let Some(secs) = spec.expire_after_secs {
            d.insert("expireAfterSeconds", secs as i64);
        }
        if let Some(partial) = spec.partial_filter {
            d.insert("partialFilterExpression", partial);
        }
        indexes.push(Bson::Document(d));
    }
    Ok(doc! {
        "options": {
            "validator": { "$jsonSchema": json_schema },
            "validationLevel": "strict",
            "validationAction": "error",
        },
        "indexes": indexes,
        "collectionName": schema.collection,
        "type": "collection",
    })
}

impl Fleet {
    /// Exports the tenant to `dir` (created if missing): per collection of the model set a `.bson`
    /// and a `.metadata.json` file as `mongodump` writes them, and [`DUMP_MANIFEST`]. Restore it with
    /// `mongorestore --db <database> <dir>`, or into a placement with [`Fleet::import`]. The tenant
    /// keeps serving; writes made during the export may or may not be in it.
    pub async fn export(&self, id: &str, dir: impl AsRef<Path>) -> Result<DumpReport> {
        let dir = dir.as_ref();
        let span = tracing::info_span!(target: "odm", "odm.fleet.export", tenant = id);
        async {
            let record = self
                .catalogue()
                .get(id)
                .await?
                .ok_or_else(|| Error::UnknownTenant { id: id.to_owned() })?;
            if matches!(record.state, TenantState::Erased | TenantState::Erasing) {
                return Err(super::unavailable(&record));
            }
            let tenant = self.at(&record.placement, id)?;
            std::fs::create_dir_all(dir).map_err(|e| io(dir, "cannot create the directory", e))?;
            let mut report = DumpReport {
                tenant: id.to_owned(),
                collections: Vec::new(),
            };
            for model in self.stored() {
                let schema = model.schema;
                let path = dir.join(format!("{}.bson", schema.collection));
                let file = std::fs::File::create(&path)
                    .map_err(|e| io(&path, "cannot create the file", e))?;
                let mut out = BufWriter::new(file);
                let (mut n, mut hash) = (0u64, 0u64);
                each_document(&tenant, schema, |raw| {
                    out.write_all(raw.as_bytes())
                        .map_err(|e| io(&path, "cannot write", e))?;
                    n += 1;
                    hash = hash.wrapping_add(document_hash(raw.as_bytes()));
                    if n % 1000 == 0 {
                        self.report(id, "export", Some(schema.collection), n);
                    }
                    Ok(())
                })
                .await?;
                out.flush().map_err(|e| io(&path, "cannot write", e))?;
                self.report(id, "export", Some(schema.collection), n);
                let meta_path = dir.join(format!("{}.metadata.json", schema.collection));
                let meta = metadata(schema, (model.json_schema)())?;
                write_json(&meta_path, Bson::Document(meta))?;
                report
                    .collections
                    .push((schema.collection.to_owned(), n, hash));
            }
            let manifest = doc! {
                "tenant": id,
                "placement": &record.placement,
                "exported_at": mongodb::bson::DateTime::now(),
                "collections": report.collections.iter().map(|(c, n, h)| doc! {
                    "name": c, "documents": *n as i64, "hash": format!("{h:016x}"),
                }).collect::<Vec<_>>(),
            };
            write_json(&dir.join(DUMP_MANIFEST), Bson::Document(manifest))?;
            Ok(report)
        }
        .instrument(span)
        .await
    }

    /// Imports an export of [`Fleet::export`] as tenant `id` at `placement` (the default one when
    /// `None`): provisions the tenant, inserts every document of every collection of the model set as
    /// it was exported (stamped with the tenant in a shared collection), checks the documents and
    /// content hash of each collection against the export's manifest, and marks the tenant active.
    ///
    /// Refuses a tenant that already holds documents, so an import never mixes with live data; an
    /// import that failed half-way is cleared and run again by calling it again.
    pub async fn import(
        &self,
        id: &str,
        placement: Option<&str>,
        dir: impl AsRef<Path>,
    ) -> Result<DumpReport> {
        let dir = dir.as_ref();
        let span = tracing::info_span!(target: "odm", "odm.fleet.import", tenant = id);
        async {
            let manifest = read_manifest(dir)?;
            let wanted = match placement {
                Some(p) => p,
                None => self.default_placement()?,
            };
            self.placement(wanted)?.check(id)?;
            let record = self.catalogue().record(id, wanted).await?;
            let importing = record.state == TenantState::Provisioning;
            if !importing {
                return Err(Error::TenantUnavailable {
                    id: id.to_owned(),
                    state: record.state.to_string(),
                    why: "an import makes a new tenant; erase this one first, or import under another id".into(),
                });
            }
            let tenant = self.at(&record.placement, id)?;
            self.provision_models(&tenant).await?;
            let mut report = DumpReport {
                tenant: id.to_owned(),
                collections: Vec::new(),
            };
            for schema in self.stored().map(|m| m.schema) {
                // A half-done import of this tenant is cleared first.
                pipeline(&tenant, schema)?.delete(doc! {}, true).await?;
                let path = dir.join(format!("{}.bson", schema.collection));
                let (n, hash) = self.import_file(&tenant, schema, &path).await?;
                let expected = manifest
                    .iter()
                    .find(|(c, _, _)| c == schema.collection)
                    .map(|(_, n, h)| (*n, *h))
                    .unwrap_or((0, 0));
                if (n, hash) != expected {
                    return Err(Error::Dump {
                        path,
                        reason: format!(
                            "holds {n} documents with hash {hash:016x}, and the manifest says {} with hash {:016x}; the export is incomplete or was changed",
                            expected.0, expected.1
                        ),
                    });
                }
                report.collections.push((schema.collection.to_owned(), n, hash));
            }
            self.catalogue()
                .transition(id, &[TenantState::Provisioning], TenantState::Active, doc! {}, "imported")
                .await?;
            Ok(report)
        }
        .instrument(span)
        .await
    }

    async fn import_file(
        &self,
        tenant: &Tenant,
        schema: &'static crate::schema::Schema,
        path: &PathBuf,
    ) -> Result<(u64, u64)> {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
            Err(e) => return Err(io(path, "cannot open", e)),
        };
        let mut input = BufReader::new(file);
        let (mut n, mut hash) = (0u64, 0u64);
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        while let Some(raw) = read_document(&mut input, path)? {
            hash = hash.wrapping_add(document_hash(raw.as_bytes()));
            batch.push(raw);
            if batch.len() == IMPORT_BATCH {
                n += self
                    .insert_batch(tenant, schema, std::mem::take(&mut batch))
                    .await?;
                self.report(tenant.id(), "import", Some(schema.collection), n);
            }
        }
        n += self.insert_batch(tenant, schema, batch).await?;
        self.report(tenant.id(), "import", Some(schema.collection), n);
        Ok((n, hash))
    }

    pub(crate) async fn insert_batch(
        &self,
        tenant: &Tenant,
        schema: &'static crate::schema::Schema,
        batch: Vec<RawDocumentBuf>,
    ) -> Result<u64> {
        if batch.is_empty() {
            return Ok(0);
        }
        let len = batch.len() as u64;
        pipeline(tenant, schema)?
            .insert_many(batch, Error::from)
            .await?;
        Ok(len)
    }
}

/// Reads one document of a `.bson` file; `None` at its end.
fn read_document(input: &mut impl Read, path: &Path) -> Result<Option<RawDocumentBuf>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(io(path, "cannot read", e)),
    }
    let size = i32::from_le_bytes(len);
    if !(5..=16 * 1024 * 1024 + 16 * 1024).contains(&size) {
        return Err(Error::Dump {
            path: path.to_owned(),
            reason: format!("a document claims {size} bytes, which no BSON document has; the file is not a `.bson` export or is damaged"),
        });
    }
    let mut bytes = vec![0u8; size as usize];
    bytes[..4].copy_from_slice(&len);
    input
        .read_exact(&mut bytes[4..])
        .map_err(|e| io(path, "the file ends inside a document (truncated)", e))?;
    RawDocumentBuf::from_bytes(bytes)
        .map(Some)
        .map_err(|_| Error::Dump {
            path: path.to_owned(),
            reason: "holds a document that is not valid BSON; the export is damaged".into(),
        })
}

fn write_json(path: &Path, value: Bson) -> Result<()> {
    let json = serde_json::to_string_pretty(&value.into_canonical_extjson())
        .map_err(|e| io(path, "cannot encode", std::io::Error::other(e)))?;
    std::fs::write(path, json).map_err(|e| io(path, "cannot write", e))
}

/// The manifest's collections: name, documents, hash.
fn read_manifest(dir: &Path) -> Result<Vec<(String, u64, u64)>> {
    let path = dir.join(DUMP_MANIFEST);
    let bad = |reason: String| Error::Dump {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        io(
            &path,
            "cannot read the export's manifest (is this a directory `Fleet::export` wrote?)",
            e,
        )
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("is not JSON: {e}")))?;
    let collections = json
        .get("collections")
        .and_then(|c| c.as_array())
        .ok_or_else(|| bad("has no `collections` list".into()))?;
    collections
        .iter()
        .map(|c| {
            let name = c.get("name").and_then(|v| v.as_str());
            let documents = c
                .get("documents")
                .and_then(|v| v.get("$numberLong").and_then(|n| n.as_str()))
                .and_then(|n| n.parse::<u64>().ok());
            let hash = c
                .get("hash")
                .and_then(|v| v.as_str())
                .and_then(|h| u64::from_str_radix(h, 16).ok());
            match (name, documents, hash) {
                (Some(name), Some(documents), Some(hash)) => Ok((name.to_owned(), documents, hash)),
                _ => Err(bad(format!("has a collection entry it cannot read: {c}"))),
            }
        })
        .collect()
}
