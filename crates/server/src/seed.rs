//! `icat seed`: a deterministic, realistic-looking data set for benchmarks and demonstrations:
//! agencies up to the number asked, users of every role, focal points, and activities (about 5% planted
//! near-duplicates by other agencies), written in batched transactions, then scored from scratch.

use diesel::prelude::*;
use icat_activities::model::Data;
use icat_audit::{Actor, NewEvent};
use icat_auth::users::{self, NewUser, Role};
use icat_common::ApiError;
use icat_directory::{FpRole, NewFocalPoint};
use icat_store::Db;
use icat_store::DbConn;
use icat_store::schema::{agencies, focal_points};
use std::time::Instant;

/// The password of every seeded user.
pub const SEED_PASSWORD: &str = "seeded account passphrase";

/// What to seed.
pub struct Plan {
    pub activities: usize,
    pub agencies: usize,
    pub users: usize,
    pub seed: u64,
}

/// Seeds the database and prints what it did.
pub async fn run(
    db: &Db,
    hasher: &icat_auth::password::Hasher,
    sentences: Option<std::sync::Arc<icat_embed::Encoder>>,
    plan: Plan,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let wanted = plan.agencies;
    let agency_ids: Vec<String> = db
        .run(move |conn| {
            let mut ids: Vec<String> = agencies::table
                .order(agencies::acronym.asc())
                .select(agencies::id)
                .load(conn)?;
            let mut n = ids.len();
            while ids.len() < wanted {
                n += 1;
                let agency = icat_agencies::create(
                    conn,
                    &Actor::default(),
                    icat_agencies::NewAgency {
                        acronym: format!("MEMBER{n:02}"),
                        name: format!("ICAT member organisation {n}"),
                        kind: icat_agencies::Kind::Other,
                        working_group: false,
                        website: None,
                        joined_on: None,
                    },
                )?;
                ids.push(agency.id);
            }
            ids.truncate(wanted.max(1));
            Ok(ids)
        })
        .await?;

    let hash = hasher.hash(SEED_PASSWORD.to_owned()).await?;
    let (ids, count) = (agency_ids.clone(), plan.users);
    let created_users = db
        .run(move |conn| {
            let mut created = 0;
            for i in 0..count {
                let email = format!("seed.user{i:03}@icat.test");
                if users::find_by_email(conn, &email)?.is_some() {
                    continue;
                }
                let role = if i % 3 == 0 {
                    Role::Viewer
                } else {
                    Role::Editor
                };
                users::create(
                    conn,
                    &Actor::default(),
                    NewUser {
                        email,
                        name: format!("Seeded user {i}"),
                        role,
                        agency_id: Some(ids[i % ids.len()].clone()),
                        password_hash: hash.clone(),
                        // Load-test accounts sign in with the seed password as they are.
                        must_change_password: false,
                    },
                )?;
                created += 1;
            }
            Ok(created)
        })
        .await?;
    let ids = agency_ids.clone();
    let designated = db
        .run(move |conn| designate_focal_points(conn, &ids))
        .await?;
    println!(
        "agencies: {}, users created: {created_users} (password: {SEED_PASSWORD}), focal points designated: {designated}",
        agency_ids.len()
    );

    let log = icat_dedup::synthetic::activities(plan.activities, agency_ids.len(), 0.05, plan.seed);
    let planted = log.iter().filter(|s| s.copy_of.is_some()).count();
    let mut written = 0;
    let postgres = db.backend() == icat_store::Backend::Postgres;
    for (n, chunk) in log.chunks(1_000).enumerate() {
        // PostgreSQL keeps a connection's plan of a prepared statement, made when the table was
        // empty: the duplicate-key look-up of each row then scanned every row written before it
        // (a 100,000 load slowed to 50 rows a second). Statistics after 1, 2, 4, 8... batches
        // make it re-plan as the table grows (autovacuum would, where it runs, a minute later).
        if postgres && n.is_power_of_two() {
            db.run(|conn| {
                use diesel::connection::SimpleConnection;
                conn.batch_execute("ANALYZE activities")
                    .map_err(icat_common::ApiError::from)
            })
            .await?;
        }
        let batch: Vec<(String, Data)> = chunk
            .iter()
            .map(|s| {
                let index: usize = s
                    .agency
                    .trim_start_matches("AG")
                    .trim_end_matches('x')
                    .parse()
                    .unwrap_or(0);
                // A planted copy names "another agency" by a suffix: take the next one.
                let index = if s.agency.ends_with('x') {
                    index + 1
                } else {
                    index
                };
                let agency = agency_ids[index % agency_ids.len()].clone();
                (
                    agency,
                    Data {
                        title: s.title.clone(),
                        description: s.description.clone(),
                        countries: s.countries.clone(),
                        themes: s.themes.clone(),
                        sdg_targets: s.sdg_targets.clone(),
                        target_groups: vec![],
                        partners: s.partners.clone(),
                        start_date: s.start,
                        end_date: s.end,
                        status: "planned".into(),
                        budget_usd: None,
                    },
                )
            })
            .collect();
        written += db
            .run(move |conn| icat_activities::log::load_unscored(conn, None, &batch))
            .await?;
    }
    println!(
        "activities written: {written} ({planted} planted near-duplicates) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let scoring = Instant::now();
    let (activities, pairs) = db
        .run(move |conn| {
            let held = sentences.map(|encoder| move || Ok(encoder.clone()));
            icat_activities::rebuild(
                conn,
                held.as_ref()
                    .map(|held| held as icat_activities::rebuild::LoadEncoder<'_>),
            )
        })
        .await?;
    println!(
        "scored: {pairs} pairs over {activities} activities in {:.1} s",
        scoring.elapsed().as_secs_f64()
    );
    // A bulk load leaves PostgreSQL without what autovacuum would give it a minute later. Its
    // planner needs table statistics: without them the activity list's filters were planned for
    // 400 rows instead of 25,000 (330 ms instead of 60). And its index-only scans (band buckets,
    // country blocks) skip the table only on pages its visibility map marks all-visible, which
    // only VACUUM does: before it, every bucket look-up visited the table and pruned its pages
    // (recording 148-171 -> 252-271 a second). SQLite's planner does well without statistics.
    if db.backend() == icat_store::Backend::Postgres {
        db.run(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("VACUUM ANALYZE")
                .map_err(icat_common::ApiError::from)
        })
        .await?;
    }
    let summary = serde_json::json!({"activities": written, "users": created_users, "agencies": agency_ids.len()});
    db.run(move |conn| {
        icat_audit::record(
            conn,
            &Actor::default(),
            &NewEvent::success("seed", "database", "seed").with_changes(summary),
        )
        .map_err(ApiError::from)
    })
    .await?;
    Ok(())
}

/// Focal points as members designate them: most members a primary and an alternate, every third
/// primary replaced once (so the directory has history), every fifth member none (so the coverage
/// report has gaps). A member that has a current focal point is left as it is.
fn designate_focal_points(conn: &mut DbConn, agency_ids: &[String]) -> Result<usize, ApiError> {
    const GIVEN: [&str; 8] = [
        "Amina", "Lucas", "Sofía", "Kwame", "Mei", "Olga", "Rahul", "Fatou",
    ];
    const FAMILY: [&str; 7] = [
        "Okafor", "Martin", "García", "Mensah", "Chen", "Ivanova", "Diop",
    ];
    const COUNTRIES: [&str; 10] = ["NG", "GH", "TH", "KH", "MX", "CO", "UA", "KE", "PH", "NP"];
    const LANGUAGES: [&str; 3] = ["en", "fr", "es"];
    let themes = icat_common::vocab::THEMES;
    let mut n = 0;
    for (i, agency_id) in agency_ids.iter().enumerate() {
        let current: i64 = focal_points::table
            .filter(focal_points::agency_id.eq(agency_id))
            .filter(focal_points::valid_until.is_null())
            .count()
            .get_result(conn)?;
        if current > 0 || i % 5 == 4 {
            continue;
        }
        let mut roles = vec![FpRole::Primary, FpRole::Alternate];
        if i % 3 == 0 {
            roles.insert(0, FpRole::Primary);
        }
        for role in roles {
            let (given, family) = (GIVEN[n % GIVEN.len()], FAMILY[n % FAMILY.len()]);
            let focal_point = NewFocalPoint {
                role,
                name: format!("{given} {family}"),
                title: Some(match role {
                    FpRole::Primary => "Coordination focal point".to_owned(),
                    FpRole::Alternate => {
                        "Alternate focal point, anti-trafficking programme".to_owned()
                    }
                }),
                email: format!("fp{n:03}@member{i:02}.example"),
                phone: None,
                languages: vec![LANGUAGES[n % 3].to_owned(), "en".to_owned()]
                    .into_iter()
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                countries: vec![
                    COUNTRIES[n % COUNTRIES.len()].to_owned(),
                    COUNTRIES[(n + 3) % COUNTRIES.len()].to_owned(),
                ],
                themes: vec![themes[n % themes.len()].to_owned()],
                valid_from: icat_common::now().date(),
            };
            icat_directory::designate(conn, &Actor::default(), agency_id, &focal_point)?;
            n += 1;
        }
    }
    Ok(n)
}
