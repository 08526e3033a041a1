//! Lifecycle hooks: order of calls, abort on error with nothing written.

use odm_core::hooks::{BoxError, HookContext, Hooks};
use odm_core::prelude::*;

use odm_tests::hook_log::{calls, log, Refused};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "notes", hooks)]
struct Note {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(length(min = 1))]
    text: String,
}

impl Note {
    fn new(text: &str) -> Note {
        Note {
            id: None,
            text: text.to_owned(),
        }
    }
}

impl Hooks for Note {
    async fn before_validate(&mut self, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, format!("before_validate {}", self.text));
        if self.text == "blank" {
            // Runs before the rules: a fix made here is what gets validated.
            self.text.clear();
        }
        if self.text == "untitled" {
            self.text = "(untitled)".into();
        }
        Ok(())
    }

    async fn before_save(&mut self, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, format!("before_save {}", self.text));
        if self.text.contains("forbidden") {
            return Err(Box::new(Refused("forbidden word")));
        }
        self.text = self.text.trim().to_owned();
        Ok(())
    }

    async fn after_save(&self, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, format!("after_save {}", self.text));
        assert_eq!(ctx.collection(), "notes");
        Ok(())
    }

    async fn before_delete(filter: &Document, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, "before_delete");
        if filter.get_str("text") == Ok("keep") {
            return Err(Box::new(Refused("kept")));
        }
        Ok(())
    }

    async fn after_delete(
        _filter: &Document,
        deleted: u64,
        ctx: &HookContext,
    ) -> Result<(), BoxError> {
        log(ctx, format!("after_delete {deleted}"));
        Ok(())
    }
}

#[tokio::test]
async fn hooks_run_in_order_around_create() {
    let db = "hooks_order_create";
    let notes = odm_tests::connect(db).await.model::<Note>();
    let saved = notes.create(Note::new("  hello ")).await.unwrap();
    assert_eq!(saved.text, "hello");
    assert_eq!(
        calls(db),
        [
            "before_validate   hello ",
            "before_save   hello ",
            "after_save hello"
        ]
    );
    let stored = notes.find_by_id(saved.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(
        stored.text, "hello",
        "before_save's change is what is stored"
    );

    let fixed = notes.create(Note::new("untitled")).await.unwrap();
    assert_eq!(fixed.text, "(untitled)");
}

#[tokio::test]
async fn a_failing_before_save_aborts_with_the_error_inside_and_writes_nothing() {
    let db = "hooks_before_save_aborts";
    let notes = odm_tests::connect(db).await.model::<Note>();
    let err = notes.create(Note::new("forbidden text")).await.unwrap_err();
    match &err {
        Error::Hook { hook, source, .. } => {
            assert_eq!(*hook, "before_save");
            let refused = source
                .downcast_ref::<Refused>()
                .expect("the hook's own error");
            assert_eq!(refused.0, "forbidden word");
        }
        other => panic!("expected Error::Hook, got {other:?}"),
    }
    assert_eq!(notes.count(()).await.unwrap(), 0);
    assert_eq!(
        calls(db),
        [
            "before_validate forbidden text",
            "before_save forbidden text"
        ]
    );

    // In a batch: one refused value writes none of them.
    let err = notes
        .insert_many([Note::new("a"), Note::new("b forbidden"), Note::new("c")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Hook {
                hook: "before_save",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(notes.count(()).await.unwrap(), 0);

    // `replace_one` runs the same hooks.
    let kept = notes.create(Note::new("kept")).await.unwrap();
    let err = notes
        .replace_one(doc! { "_id": kept.id }, Note::new("forbidden"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Hook {
                hook: "before_save",
                ..
            }
        ),
        "{err}"
    );
    let stored = notes.find_by_id(kept.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.text, "kept");
}

#[tokio::test]
async fn validation_runs_between_before_validate_and_before_save() {
    let db = "hooks_validation_between";
    let notes = odm_tests::connect(db).await.model::<Note>();
    let err = notes.create(Note::new("blank")).await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    assert_eq!(calls(db), ["before_validate blank"]);
    assert_eq!(notes.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn delete_hooks_see_the_filter_and_can_refuse() {
    let db = "hooks_delete";
    let notes = odm_tests::connect(db).await.model::<Note>();
    notes
        .insert_many([Note::new("keep"), Note::new("drop"), Note::new("drop")])
        .await
        .unwrap();
    let before = calls(db).len();

    let err = notes.delete_one(doc! { "text": "keep" }).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Hook {
                hook: "before_delete",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(notes.count(doc! { "text": "keep" }).await.unwrap(), 1);

    let deleted = notes
        .delete_many(Note::fields().text.eq("drop"))
        .await
        .unwrap();
    assert_eq!(deleted.deleted_count, 2);
    assert_eq!(
        calls(db)[before..],
        ["before_delete", "before_delete", "after_delete 2"]
    );
}
