use diesel::prelude::*;
use icat_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(backups_are_consistent_while_writes_go_on);

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

fn counts(db: &icat_store::Db) -> Vec<i64> {
    let mut conn = db.get().unwrap_or_else(|e| panic!("{e}"));
    [
        "agencies",
        "users",
        "activities",
        "activity_pairs",
        "focal_points",
    ]
    .iter()
    .map(|t| {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"))
            .get_result::<N>(&mut *conn)
            .map(|r| r.n)
            .unwrap_or(-1)
    })
    .collect()
}

async fn backups_are_consistent_while_writes_go_on(app: &TestApp) {
    let dir = std::env::temp_dir().join(format!("icat-backup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let backup = |name: &str| {
        let path = dir.join(name);
        let db = app.db.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = db.get().map_err(|e| e.detail)?;
                icat_store::backup_sqlite(&mut conn, &path).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    if app.backend == Backend::Postgres {
        let refused = backup("pg.db").await;
        assert!(refused.is_err_and(|e| e.contains("pg_dump")));
        return;
    }
    let editor = app.user("editor", Some("UNODC")).await;
    let write = |i: usize| {
        let body = json!({"title": format!("Activity number {i} of the load"), "description": "Written during a backup.",
                          "countries": ["NG"], "themes": ["prevention"], "start_date": "2026-01-01", "end_date": "2026-06-30"});
        let (app, token) = (app, editor.access.clone());
        async move { app.post("/api/v1/activities", &token, &body).await.status }
    };
    // A backup taken while recordings go on.
    let writes = twenty_writes(write);
    let (statuses, during) = tokio::join!(writes, backup("during.db"));
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED));
    during.unwrap_or_else(|e| panic!("{e}"));
    let copy = icat_store::Db::connect(
        dir.join("during.db").to_str().unwrap_or_default(),
        icat_store::PoolOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = copy.get().unwrap_or_else(|e| panic!("{e}"));
    let check: Check = diesel::sql_query("PRAGMA integrity_check")
        .get_result(&mut *conn)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(check.integrity_check, "ok");
    drop(conn);
    // Once writes stop, a backup holds exactly what the database holds, and a server runs on it.
    backup("after.db").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        backup("after.db").await.is_err(),
        "an existing file is never overwritten"
    );
    let restored = icat_store::Db::connect(
        dir.join("after.db").to_str().unwrap_or_default(),
        icat_store::PoolOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        restored
            .migrate()
            .map(|applied| applied.is_empty())
            .unwrap_or(false),
        "the copy is fully migrated"
    );
    let source = counts(&app.db);
    assert_eq!(source[2], 20);
    assert_eq!(counts(&restored), source);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs twenty writes one after another (beside the backup) and collects their statuses.
async fn twenty_writes<F, Fut>(write: F) -> Vec<StatusCode>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let mut set = Vec::new();
    for i in 0..20 {
        set.push(write(i));
    }
    let mut out = Vec::new();
    for f in set {
        out.push(f.await);
    }
    out
}
