//! Keyset pagination against the server: a walk over 10,000 documents with many equal sort keys, while
//! other documents are inserted, reads every document that was there once, in order, and none twice.

use std::collections::HashSet;

use odm_core::prelude::*;
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "events")]
struct Event {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    n: i32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_reads_every_document_once_while_others_are_inserted() {
    let conn = connect("pages_walk").await;
    let events = conn.model::<Event>();
    let f = Event::fields();
    let stored = events
        .insert_many((0..10_000).map(|i| Event {
            id: None,
            n: i % 50,
        }))
        .await
        .unwrap();
    let before: HashSet<ObjectId> = stored.iter().map(|e| e.id.unwrap()).collect();

    // Writers insert more documents, with the same keys, for the whole walk.
    let writer = {
        let events = events.clone();
        tokio::spawn(async move {
            let mut added = 0;
            for round in 0..50 {
                events
                    .insert_many((0..10).map(|i| Event {
                        id: None,
                        n: (round * 7 + i) % 50,
                    }))
                    .await
                    .unwrap();
                added += 10;
                tokio::task::yield_now().await;
            }
            added
        })
    };

    let mut seen = HashSet::new();
    let mut previous: Option<(i32, ObjectId)> = None;
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = events
            .find(doc! {})
            .sort(f.n.desc())
            .page_after(token.as_deref(), 97)
            .await
            .unwrap();
        pages += 1;
        for e in &page.items {
            let key = (e.n, e.id.unwrap());
            assert!(seen.insert(key.1), "{key:?} read twice");
            if let Some((n, id)) = previous {
                // `n` descending, `_id` ascending among equals.
                assert!(
                    key.0 < n || (key.0 == n && key.1 > id),
                    "{key:?} after {:?}",
                    (n, id)
                );
            }
            previous = Some(key);
        }
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    let added = writer.await.unwrap();
    let missing = before.difference(&seen).count();
    assert_eq!(missing, 0, "documents there from the start were skipped");
    assert!(seen.len() <= before.len() + added);
    assert!(pages >= 10_000 / 97, "{pages}");
}

#[tokio::test]
async fn a_token_changed_by_hand_is_refused() {
    let conn = connect("pages_token").await;
    let events = conn.model::<Event>();
    events
        .insert_many((0..5).map(|n| Event { id: None, n }))
        .await
        .unwrap();
    let first = events.find(doc! {}).page_after(None, 2).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.next.unwrap();
    let mut edited = token.clone();
    edited.replace_range(10..11, if &token[10..11] == "a" { "b" } else { "a" });
    let refused = events.find(doc! {}).page_after(Some(&edited), 2).await;
    assert!(
        matches!(refused, Err(Error::InvalidPageToken(_))),
        "{refused:?}"
    );
    // Another sort than the first page's is refused too.
    let other = events
        .find(doc! {})
        .sort(doc! { "n": -1 })
        .page_after(Some(&token), 2)
        .await;
    assert!(
        matches!(other, Err(Error::InvalidPageToken(_))),
        "{other:?}"
    );
    // The rest of the walk.
    let second = events
        .find(doc! {})
        .page_after(Some(&token), 2)
        .await
        .unwrap();
    let third = events
        .find(doc! {})
        .page_after(second.next.as_deref(), 2)
        .await
        .unwrap();
    assert_eq!((second.items.len(), third.items.len()), (2, 1));
    assert_eq!(third.next, None);
}

#[tokio::test]
async fn find_and_count_gives_a_page_and_the_total() {
    let conn = connect("pages_count").await;
    let events = conn.model::<Event>();
    let f = Event::fields();
    events
        .insert_many((0..25).map(|n| Event { id: None, n }))
        .await
        .unwrap();
    let (page, total) = events
        .find_and_count(events.find(f.n.gte(5)).sort(f.n.asc()).skip(10).limit(5))
        .await
        .unwrap();
    assert_eq!(total, 20);
    assert_eq!(
        page.iter().map(|e| e.n).collect::<Vec<_>>(),
        vec![15, 16, 17, 18, 19]
    );
}
