//! The typed update builder against the server: repeated operations on one path all reach the stored
//! document, and contradicting ones are refused before anything is sent.

use odm_core::prelude::*;
use odm_core::UpdateBuilder;
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "posts")]
struct Post {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
    tags: Vec<String>,
    views: i64,
}

#[tokio::test]
async fn every_pushed_value_is_stored() {
    let conn = connect("updates_push").await;
    let posts = conn.model::<Post>();
    let f = Post::fields();
    let post = posts
        .create(Post {
            id: None,
            title: "t".into(),
            tags: vec![],
            views: 0,
        })
        .await
        .unwrap();
    let tags: Vec<String> = (0..11).map(|i| format!("tag{i}")).collect();
    let mut update = UpdateBuilder::new();
    for tag in &tags[..9] {
        update = update.push(&f.tags, tag).inc(&f.views, 1i64);
    }
    update = update.push_all(&f.tags, &tags[9..]);
    posts
        .update_one(f.id.eq(post.id.unwrap()), update)
        .await
        .unwrap();
    let stored = posts.find_by_id(post.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.tags, tags);
    assert_eq!(stored.views, 9);

    // `add_to_set_all` adds only what the array lacks.
    posts
        .update_one(
            f.id.eq(post.id.unwrap()),
            UpdateBuilder::new().add_to_set_all(&f.tags, ["tag0", "new", "new"]),
        )
        .await
        .unwrap();
    let stored = posts.find_by_id(post.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.tags.len(), 12);
    assert_eq!(stored.tags.last().map(String::as_str), Some("new"));
}

#[tokio::test]
async fn contradicting_operations_send_nothing() {
    let conn = connect("updates_conflict").await;
    let posts = conn.model::<Post>();
    let f = Post::fields();
    let post = posts
        .create(Post {
            id: None,
            title: "kept".into(),
            tags: vec!["a".into()],
            views: 1,
        })
        .await
        .unwrap();
    let refused = posts
        .update_one(
            f.id.eq(post.id.unwrap()),
            UpdateBuilder::new()
                .set(&f.title, "changed")
                .push(&f.tags, "b")
                .unset(&f.title),
        )
        .await;
    match refused {
        Err(Error::InvalidUpdate(message)) => {
            assert!(message.contains("`title`"), "{message}");
        }
        other => panic!("expected InvalidUpdate, got {other:?}"),
    }
    assert_eq!(
        posts.find_by_id(post.id.unwrap()).await.unwrap().unwrap(),
        post
    );
}
