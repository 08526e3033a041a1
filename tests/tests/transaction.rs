//! Transactions: commit, abort on a failure half way, and refusal of another client's session.

mod query_models;

use odm_core::{Connection, Error, Model};
use query_models::User;

#[tokio::test]
async fn a_transaction_commits_and_returns_the_closures_value() {
    let conn = odm_tests::connect("tx_commits").await;
    let users = conn.model::<User>();
    let emails = conn
        .transaction(|tx| {
            let users = &users;
            async move {
                let mut s = tx.session().await;
                let a = users
                    .create(User::new("a@acme.io", 1))
                    .session(&mut s)
                    .await?;
                let b = users
                    .create(User::new("b@acme.io", 2))
                    .session(&mut s)
                    .await?;
                // Reads in the session see the transaction's own writes.
                let seen = users.count(()).session(&mut s).await?;
                Ok((a.email, b.email, seen))
            }
        })
        .await
        .unwrap();
    assert_eq!(emails, ("a@acme.io".into(), "b@acme.io".into(), 2));
    assert_eq!(users.count(()).await.unwrap(), 2);
}

#[tokio::test]
async fn a_transaction_that_fails_half_way_leaves_nothing_behind() {
    let conn = odm_tests::connect("tx_fails_half_way").await;
    let users = conn.model::<User>();
    // Created before the transaction, as MongoDB before 4.4 requires. (On NX-27017 a collection first
    // created in an aborted transaction is gone afterwards, and counting one answers an error.)
    conn.database().create_collection("users").await.unwrap();
    let mut attempts = 0;
    let err = conn
        .transaction(|tx| {
            attempts += 1;
            let users = &users;
            async move {
                let mut s = tx.session().await;
                users
                    .create(User::new("first@acme.io", 1))
                    .session(&mut s)
                    .await?;
                users
                    .update_many(
                        (),
                        odm_core::UpdateBuilder::new().inc(&User::fields().age, 10),
                    )
                    .session(&mut s)
                    .await?;
                Err::<(), _>(Error::abort("the second step failed"))
            }
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Aborted(e) if e.to_string() == "the second step failed"),
        "{err}"
    );
    assert_eq!(attempts, 1, "an error that is not transient is not retried");
    assert_eq!(users.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn an_operation_with_another_clients_session_is_refused() {
    let conn = odm_tests::connect("tx_foreign_session").await;
    let other = Connection::connect(&odm_tests::uri())
        .await
        .unwrap()
        .use_db("tx_foreign_session")
        .unwrap();
    let foreign = other.model::<User>();
    conn.database().create_collection("users").await.unwrap();

    let mut session = conn.start_session().await.unwrap();
    let err = foreign
        .create(User::new("x@acme.io", 1))
        .session(&mut session)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignSession), "{err}");
    let err = foreign.find(()).session(&mut session).await.unwrap_err();
    assert!(matches!(err, Error::ForeignSession), "{err}");

    // Inside a transaction, the refusal aborts it: the write made before it does not stay.
    let users = conn.model::<User>();
    let err = conn
        .transaction(|tx| {
            let (users, foreign) = (&users, &foreign);
            async move {
                let mut s = tx.session().await;
                users
                    .create(User::new("in@acme.io", 1))
                    .session(&mut s)
                    .await?;
                foreign
                    .create(User::new("out@acme.io", 2))
                    .session(&mut s)
                    .await?;
                Ok(())
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignSession), "{err}");
    assert_eq!(users.count(()).await.unwrap(), 0);
    assert_eq!(foreign.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_transient_transaction_error_runs_the_closure_again() {
    let conn = odm_tests::connect("tx_transient_retry").await;
    conn.database().create_collection("users").await.unwrap();
    // MongoDB's `failCommand` fail point (mongod with test commands enabled) makes the next `insert` fail
    // with a `TransientTransactionError`. NX-27017 has no fail points and never labels an error, so
    // there the retry cannot be provoked and the test stops here.
    let admin = conn.client().database("admin");
    let fail_point = admin
        .run_command(odm_core::bson::doc! {
            "configureFailPoint": "failCommand",
            "mode": { "times": 1 },
            "data": {
                "failCommands": ["insert"],
                "errorCode": 112,
                "errorLabels": ["TransientTransactionError"],
            },
        })
        .await;
    // MongoDB answers `{count: n, ok: 1}`; NX-27017 answers `ok` to commands it does not run.
    match fail_point {
        Ok(reply) if reply.contains_key("count") => {}
        other => {
            eprintln!("no failCommand fail point on this server ({other:?}); retry not checked");
            return;
        }
    }
    let users = conn.model::<User>();
    let mut attempts = 0;
    conn.transaction(|tx| {
        attempts += 1;
        let users = &users;
        async move {
            let mut s = tx.session().await;
            users
                .create(User::new("once@acme.io", 1))
                .session(&mut s)
                .await?;
            Ok(())
        }
    })
    .await
    .unwrap();
    assert_eq!(attempts, 2);
    assert_eq!(users.count(()).await.unwrap(), 1);
}
