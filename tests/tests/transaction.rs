//! Transactions: commit, abort on a failure half way, isolation of uncommitted writes, the retry of a
//! transient error (through a fail point), and refusal of another client's session.

mod query_models;

use odm_core::bson::doc;
use odm_core::mongodb::error::ErrorKind;
use odm_core::{Connection, Error, Model, UpdateBuilder};
use odm_tests::FailPoint;
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
    // Created before the transaction, as MongoDB before 4.4 requires.
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
    // The fail-point server (`ODM_FAILPOINT_URI`): `failCommand` makes the first `insert` of this client
    // fail with a `TransientTransactionError`, which `transaction` answers by running the closure again.
    let conn = odm_tests::connect_failpoint("tx_transient_retry").await;
    conn.database().create_collection("users").await.unwrap();
    let users = conn.model::<User>();
    let _fail = FailPoint::arm(
        "tx_transient_retry",
        doc! { "times": 1 },
        doc! {
            "failCommands": ["insert"],
            "errorCode": 112,
            "errorLabels": ["TransientTransactionError"],
        },
    )
    .await;
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
    assert_eq!(
        attempts, 2,
        "the closure ran again after the transient error"
    );
    assert_eq!(users.count(()).await.unwrap(), 1);
}

#[tokio::test]
async fn a_server_error_without_the_transient_label_is_not_retried() {
    let conn = odm_tests::connect_failpoint("tx_server_error_once").await;
    conn.database().create_collection("users").await.unwrap();
    let users = conn.model::<User>();
    // The first insert fails with BadValue, which no server labels transient: a retry would succeed, so
    // one attempt and the server's error show that none was made.
    let _fail = FailPoint::arm(
        "tx_server_error_once",
        doc! { "times": 1 },
        doc! { "failCommands": ["insert"], "errorCode": 2 },
    )
    .await;
    let mut attempts = 0;
    let err = conn
        .transaction(|tx| {
            attempts += 1;
            let users = &users;
            async move {
                let mut s = tx.session().await;
                users
                    .create(User::new("never@acme.io", 1))
                    .session(&mut s)
                    .await?;
                Ok(())
            }
        })
        .await
        .unwrap_err();
    assert_eq!(attempts, 1, "an error without the label is not retried");
    assert!(
        matches!(&err, Error::Driver(e) if matches!(&*e.kind, ErrorKind::Command(c) if c.code == 2)),
        "{err}"
    );
    assert_eq!(users.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn writes_in_an_open_transaction_are_invisible_outside_it_until_commit() {
    let conn = odm_tests::connect("tx_uncommitted_invisible").await;
    conn.database().create_collection("users").await.unwrap();
    let users = conn.model::<User>();
    users.create(User::new("before@acme.io", 1)).await.unwrap();
    let outside = users.clone();
    let seen_inside_and_outside = conn
        .transaction(|tx| {
            let (users, outside) = (&users, &outside);
            async move {
                let mut s = tx.session().await;
                users
                    .create(User::new("inside@acme.io", 2))
                    .session(&mut s)
                    .await?;
                users
                    .update_many((), UpdateBuilder::new().set(&User::fields().age, 99))
                    .session(&mut s)
                    .await?;
                let inside = users.count(()).session(&mut s).await?;
                drop(s);
                // MongoDB's snapshot isolation: another client sees neither the insert nor the update.
                let out_count = outside.count(()).await?;
                let out_updated = outside.count(User::fields().age.eq(99)).await?;
                let out_new = outside
                    .exists(User::fields().email.eq("inside@acme.io"))
                    .await?;
                Ok((inside, out_count, out_updated, out_new))
            }
        })
        .await
        .unwrap();
    assert_eq!(seen_inside_and_outside, (2, 1, 0, false));
    // After the commit everyone sees both.
    assert_eq!(users.count(()).await.unwrap(), 2);
    assert_eq!(users.count(User::fields().age.eq(99)).await.unwrap(), 2);
}

#[tokio::test]
async fn an_aborted_transactions_writes_are_gone() {
    let conn = odm_tests::connect("tx_aborted_gone").await;
    conn.database().create_collection("users").await.unwrap();
    let users = conn.model::<User>();
    let kept = users.create(User::new("kept@acme.io", 1)).await.unwrap();
    let err = conn
        .transaction(|tx| {
            let users = &users;
            async move {
                let mut s = tx.session().await;
                users
                    .create(User::new("gone@acme.io", 2))
                    .session(&mut s)
                    .await?;
                users
                    .delete_many(User::fields().email.eq("kept@acme.io"))
                    .session(&mut s)
                    .await?;
                assert_eq!(users.count(()).session(&mut s).await?, 1);
                Err::<(), _>(Error::abort("changed my mind"))
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Aborted(_)), "{err}");
    let left = users.find(()).await.unwrap();
    assert_eq!(
        left,
        [kept],
        "the insert is undone and the delete never happened"
    );
}
