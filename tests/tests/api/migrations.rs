use icat_tests::{TestApp, on_both_backends};

on_both_backends!(
    migrations_go_down_and_up_again,
    the_audit_trail_cannot_be_changed_even_in_sql
);

/// The triggers refuse UPDATE and DELETE on the audit trail (and TRUNCATE on PostgreSQL) to anyone
/// with a connection, not only to the API, which has no such route.
async fn the_audit_trail_cannot_be_changed_even_in_sql(app: &TestApp) {
    use diesel::connection::SimpleConnection;
    app.admin().await; // a sign-in writes an event
    let before = app.audit_count("login", "success").await;
    assert!(before >= 1);
    let mut statements = vec![
        "UPDATE audit_events SET outcome = 'failure'",
        "DELETE FROM audit_events",
    ];
    if app.backend == icat_tests::Backend::Postgres {
        statements.push("TRUNCATE audit_events");
    }
    for sql in statements {
        let refused = app
            .db
            .run(move |conn| Ok(conn.batch_execute(sql).is_err()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(refused, "{sql} was allowed");
    }
    assert_eq!(app.audit_count("login", "success").await, before);
}

async fn migrations_go_down_and_up_again(app: &TestApp) {
    let outcome = app
        .db
        .run(|conn| {
            let down = icat_store::revert_all(conn).map_err(icat_common::ApiError::internal)?;
            let up = icat_store::migrate(conn).map_err(icat_common::ApiError::internal)?;
            let again = icat_store::migrate(conn).map_err(icat_common::ApiError::internal)?;
            Ok((down, up, again))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (down, up, again) = outcome;
    assert!(!down.is_empty());
    let mut down_sorted = down.clone();
    down_sorted.sort();
    assert_eq!(down_sorted, up, "every migration reverted comes back");
    assert!(again.is_empty(), "nothing left to apply");
    // The schema works again: the registry can be seeded into the fresh tables.
    let seeded = app
        .db
        .run(icat_agencies_seed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seeded, 13);
}

fn icat_agencies_seed(conn: &mut icat_store::DbConn) -> Result<usize, icat_common::ApiError> {
    icat_agencies::seed_if_empty(conn)
}
