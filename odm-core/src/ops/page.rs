//! Keyset pagination: `find(..).sort(..).page_after(token, n)` reads a page after the last document of
//! the previous one, by its sort key and `_id`, so a page costs the same at any depth and documents
//! inserted meanwhile neither shift nor repeat what is read. And `find_and_count`, for the page-with-total
//! pattern.

use mongodb::bson::{self, doc, Bson, Document, RawDocument};

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::ops::find::Find;
use crate::ops::into_future;

/// One page of a keyset-paginated find.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The documents of the page, in the find's order.
    pub items: Vec<T>,
    /// The token of the next page; `None` on the last one.
    pub next: Option<String>,
}

/// A find that reads one page; await it for a [`Page`]. Made by [`Find::page_after`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct PageFind<'a, T> {
    find: Find<'a, T>,
    after: Option<String>,
    size: u32,
}

impl<'a, T: Model> Find<'a, T> {
    /// Reads the page of at most `size` documents after the one `token` ends (`None`: the first page),
    /// in the find's sort order with `_id` breaking ties. The page's [`next`](Page::next) token reads the
    /// one after it.
    ///
    /// Unlike `skip`, a page costs the same at any depth, and documents inserted or deleted meanwhile
    /// shift nothing: each document of the filter is read once, in order. The token is opaque and
    /// tamper-evident (a token changed by hand, or used with another sort, is
    /// [`Error::InvalidPageToken`]); it holds the sort key of the page's last document, so treat it like
    /// that data. Sort on fields every document has, of one BSON type each: MongoDB compares values of
    /// one type only, so a document missing the field, or holding another type, falls outside the pages.
    pub fn page_after(self, token: Option<&str>, size: u32) -> PageFind<'a, T> {
        PageFind {
            find: self,
            after: token.map(str::to_owned),
            size: size.max(1),
        }
    }
}

impl<'a, T: Model> PageFind<'a, T> {
    fn handle(&self) -> &'a ModelHandle<T> {
        self.find.handle
    }

    async fn run(self) -> Result<Page<T>> {
        let Find {
            handle,
            filter,
            mut options,
            session,
            with_deleted,
        } = self.find;
        let mut sort = options.sort.take().unwrap_or_default();
        if !sort.contains_key("_id") {
            sort.insert("_id", 1);
        }
        let keys: Vec<(String, bool)> = sort
            .iter()
            .map(|(k, v)| (k.clone(), !descending(v)))
            .collect();
        let mut filter = filter.into_document()?;
        if let Some(token) = &self.after {
            let values = decode_token(token, &sort)?;
            let after = after_filter(&keys, &values);
            filter = if filter.is_empty() {
                after
            } else {
                doc! { "$and": [ filter, after ] }
            };
        }
        options.sort = Some(sort.clone());
        options.skip = None;
        options.limit = Some(i64::from(self.size) + 1);
        let mut pipeline = handle.pipeline(session)?;
        pipeline.include_deleted(with_deleted);
        let mut items = Vec::new();
        let mut last = Vec::new();
        let mut seen = 0usize;
        let size = self.size as usize;
        pipeline
            .find(filter, options, |raw| {
                // One more than the page is asked for, to know whether a next page exists.
                seen += 1;
                if seen <= size {
                    items.push(T::from_document(raw)?);
                    last = key_of(raw, &keys);
                }
                Ok(())
            })
            .await?;
        let next = if seen > size {
            Some(encode_token(&sort, &last)?)
        } else {
            None
        };
        Ok(Page { items, next })
    }
}
into_future!(PageFind, Page<T>, "page_after", "find", via_handle);

fn descending(direction: &Bson) -> bool {
    match direction {
        Bson::Int32(d) => *d < 0,
        Bson::Int64(d) => *d < 0,
        Bson::Double(d) => *d < 0.0,
        _ => false,
    }
}

/// The values of the sort keys of a document, by path (`Null` where it has none).
fn key_of(raw: &RawDocument, keys: &[(String, bool)]) -> Vec<Bson> {
    keys.iter()
        .map(|(path, _)| {
            let mut doc = raw;
            let mut parts = path.split('.').peekable();
            while let Some(part) = parts.next() {
                match doc.get(part).ok().flatten() {
                    Some(bson::RawBsonRef::Document(inner)) if parts.peek().is_some() => {
                        doc = inner
                    }
                    Some(value) if parts.peek().is_none() => {
                        return value.to_raw_bson().try_into().unwrap_or(Bson::Null)
                    }
                    _ => break,
                }
            }
            Bson::Null
        })
        .collect()
}

/// The documents after `values` in the order of `keys`: greater on the first key, or equal on it and
/// after on the rest.
fn after_filter(keys: &[(String, bool)], values: &[Bson]) -> Document {
    let mut branches = Vec::new();
    for i in 0..keys.len() {
        let mut branch = Document::new();
        for (j, (path, _)) in keys.iter().enumerate().take(i) {
            branch.insert(path.clone(), doc! { "$eq": values[j].clone() });
        }
        let (path, ascending) = &keys[i];
        let op = if *ascending { "$gt" } else { "$lt" };
        branch.insert(path.clone(), doc! { op: values[i].clone() });
        branches.push(Bson::Document(branch));
    }
    doc! { "$or": branches }
}

const TOKEN_VERSION: i32 = 1;

/// A token: the sort and the last key as BSON, hex, and a checksum of both.
fn encode_token(sort: &Document, key: &[Bson]) -> Result<String> {
    let payload = doc! { "v": TOKEN_VERSION, "s": sort.clone(), "k": key.to_vec() };
    let bytes = bson::to_vec(&payload).map_err(|source| Error::Serialization {
        type_name: "page token",
        source: Box::new(source),
    })?;
    let mut token = String::with_capacity(bytes.len() * 2 + 16);
    for b in &bytes {
        token.push_str(&format!("{b:02x}"));
    }
    token.push_str(&format!("{:016x}", checksum(&bytes)));
    Ok(token)
}

fn decode_token(token: &str, sort: &Document) -> Result<Vec<Bson>> {
    let invalid = |why: &str| Error::InvalidPageToken(why.to_owned());
    if token.len() < 16 || !token.len().is_multiple_of(2) || !token.is_ascii() {
        return Err(invalid("it is not a token this library made"));
    }
    let (body, sum) = token.split_at(token.len() - 16);
    let bytes = (0..body.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&body[i..i + 2], 16))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|_| invalid("it is not a token this library made"))?;
    if u64::from_str_radix(sum, 16).ok() != Some(checksum(&bytes)) {
        return Err(invalid("it was changed since the library made it"));
    }
    let payload: Document =
        bson::from_slice(&bytes).map_err(|_| invalid("it is not a token this library made"))?;
    if payload.get_i32("v").ok() != Some(TOKEN_VERSION) {
        return Err(invalid("it was made by another version of the library"));
    }
    if payload.get_document("s").ok() != Some(sort) {
        return Err(invalid(
            "it was made for another sort order; page with the sort of the first page",
        ));
    }
    let key = payload
        .get_array("k")
        .map_err(|_| invalid("it is not a token this library made"))?;
    if key.len() != sort.len() {
        return Err(invalid("it is not a token this library made"));
    }
    Ok(key.clone())
}

/// FNV-1a over the payload, keyed by the library's own constant: it catches a token edited by hand or
/// cut short; it is not a secret, and the position it holds grants nothing (the find stays confined).
fn checksum(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ 0x6f64_6d2d_7061_6765;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl<T: Model> ModelHandle<T> {
    /// The documents of `find` (with its sort, skip and limit) and how many documents match its filter
    /// in all (soft-deleted ones counted only with the find's `with_deleted`), for the page-with-total
    /// pattern. Two round trips; prefer [`page_after`](Find::page_after) for deep pages. Its span,
    /// `odm.find_and_count`, holds the spans of the find and the count.
    pub async fn find_and_count(&self, find: Find<'_, T>) -> Result<(Vec<T>, u64)> {
        let timeout = self.connection().operation_timeout();
        let both = crate::ops::with_timeout(timeout, async {
            let filter = find.filter.clone();
            let with_deleted = find.with_deleted;
            let items = find.await?;
            let mut count = self.count(filter);
            count.with_deleted = with_deleted;
            let total = count.await?;
            Ok((items, total))
        });
        crate::observe::observed!(self, "find_and_count", "find", both).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let sort = doc! { "n": -1, "_id": 1 };
        let key = vec![Bson::Int32(5), Bson::String("x".into())];
        let token = encode_token(&sort, &key).unwrap();
        assert_eq!(decode_token(&token, &sort).unwrap(), key);
        let mut edited = token.clone().into_bytes();
        edited[20] = if edited[20] == b'0' { b'1' } else { b'0' };
        let edited = String::from_utf8(edited).unwrap();
        assert!(matches!(
            decode_token(&edited, &sort),
            Err(Error::InvalidPageToken(_))
        ));
        assert!(matches!(
            decode_token(&token, &doc! { "n": 1, "_id": 1 }),
            Err(Error::InvalidPageToken(_))
        ));
        assert!(decode_token("zz", &sort).is_err());
    }

    #[test]
    fn the_after_filter_breaks_ties_by_the_next_key() {
        let keys = vec![("n".to_owned(), false), ("_id".to_owned(), true)];
        assert_eq!(
            after_filter(&keys, &[Bson::Int32(5), Bson::Int32(9)]),
            doc! { "$or": [ { "n": { "$lt": 5 } }, { "n": { "$eq": 5 }, "_id": { "$gt": 9 } } ] }
        );
    }
}
