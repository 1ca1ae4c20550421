//! The HTTP routes of the reports: the duplicate report (JSON pages, streamed CSV), participation,
//! the summary and focal-point coverage. Reading only: settling a pair is the activity log's.

use crate::duplicates::{self as report, ReviewStatus};
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use icat_auth::AuthUser;
use icat_common::vocab::schema::{CountryCode, Format, MatchLevel, PairStatus, SdgTarget, Theme};
use icat_common::web::Problem;
use icat_common::{ApiError, PageParams, vocab};
use icat_store::Db;
use serde::Deserialize;
use utoipa::IntoParams;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(duplicates)
        .service(participation)
        .service(summary)
        .service(coverage)
        .service(countries)
        .service(timeline);
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    #[param(value_type = Option<Theme>)]
    pub theme: Option<String>,
    /// Agency id or acronym: clusters that involve it.
    pub agency: Option<String>,
    /// 0..1.
    #[param(minimum = 0, maximum = 1)]
    pub min_score: Option<f64>,
    /// duplicate, possible or overlap (overlaps are grouped by country and theme); default
    /// duplicate and possible.
    #[param(value_type = Option<MatchLevel>)]
    pub level: Option<String>,
    /// open (default), reviewed or all.
    #[param(value_type = Option<PairStatus>)]
    pub status: Option<String>,
    /// json (default) or csv.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
    /// The page of clusters, from 1 (JSON; the CSV is every cluster whatever the page).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Clusters a page, 1 to 100 (default 50; JSON only).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// Groups of activities of different agencies that look like the same work, strongest first, with
/// the reasons of each pair and people's reviews.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The report (JSON, or CSV with format=csv: one row a pair)", body = report::Report),
    )
)]
#[get("/api/v1/reports/duplicates")]
async fn duplicates(
    db: web::Data<Db>,
    _user: AuthUser,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let bad = |m: String| ApiError::bad_request(m);
    let min_score = q.min_score.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&min_score) {
        return Err(bad("min_score must be between 0 and 1".into()));
    }
    let level = match q.level.as_deref() {
        None => None,
        Some(l) => Some(
            icat_dedup::Level::parse(l)
                .ok_or_else(|| bad("level must be duplicate, possible or overlap".into()))?,
        ),
    };
    let status = match q.status.as_deref() {
        None | Some("open") => ReviewStatus::Open,
        Some("reviewed") => ReviewStatus::Reviewed,
        Some("all") => ReviewStatus::All,
        Some(_) => return Err(bad("status must be open, reviewed or all".into())),
    };
    let csv = wants_csv(q.format.as_deref())?;
    let page = PageParams::new(q.page, q.per_page)?;
    let filter = report::Filter {
        country: q
            .country
            .as_deref()
            .map(|c| vocab::country(c).map_err(|r| bad(r.into())))
            .transpose()?,
        theme: q
            .theme
            .as_deref()
            .map(|t| vocab::theme(t).map_err(|r| bad(r.into())))
            .transpose()?,
        agency: q.agency.filter(|a| !a.trim().is_empty()),
        min_score,
        level,
        status,
    };
    if !csv {
        // Built on the report thread (see `Db::run_big`): the outline holds every pair's key.
        let body = db
            .run_big(move |conn| {
                let report = report::duplicates(conn, &filter, page)?;
                serde_json::to_string(&report).map_err(ApiError::internal)
            })
            .await?;
        return Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(body));
    }
    // The CSV is every cluster: outlined once, then filled and written a few hundred clusters (or
    // a thousand overlap pairs) at a time as the client reads; a slow client holds no connection
    // between chunks.
    let outline = std::sync::Arc::new(
        db.run_big(move |conn| report::outline(conn, &filter))
            .await?,
    );
    let db = db.into_inner();
    let chunks = futures_util::stream::try_unfold(Some((0usize, 0usize)), move |at| {
        let (db, outline) = (db.clone(), outline.clone());
        async move {
            let Some((cluster, offset)) = at else {
                return Ok(None);
            };
            let (csv, next) = db
                .run(move |conn| {
                    let header = cluster == 0 && offset == 0;
                    if outline.overlaps() {
                        let group = report::fill_overlaps(
                            conn,
                            &outline,
                            cluster,
                            offset,
                            report::OVERLAP_CHUNK,
                        )?;
                        let full = group
                            .as_ref()
                            .is_some_and(|g| g.pairs.len() == report::OVERLAP_CHUNK);
                        let next = if full {
                            Some((cluster, offset + report::OVERLAP_CHUNK))
                        } else {
                            Some((cluster + 1, 0))
                        };
                        let next = next.filter(|(c, _)| *c < outline.clusters.len());
                        Ok((report_csv(&Vec::from_iter(group), header)?, next))
                    } else {
                        let to = cluster + REPORT_CHUNK;
                        let clusters = report::fill(conn, &outline, cluster..to)?;
                        let next = (to < outline.clusters.len()).then_some((to, 0));
                        Ok((report_csv(&clusters, header)?, next))
                    }
                })
                .await?;
            Ok::<_, ApiError>(Some((web::Bytes::from(csv), next)))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"icat-duplicates.csv\"",
        ))
        .streaming(chunks))
}

/// Clusters the duplicate report's CSV fills and writes at a time.
const REPORT_CHUNK: usize = 200;

/// The report's CSV rows, one a pair; the header first when `header`.
fn report_csv(clusters: &[report::Cluster], header: bool) -> Result<String, ApiError> {
    let mut out = icat_common::SpreadsheetCsv::new();
    if header {
        out.row(
            [
                "cluster", "level", "score", "a", "a_agency", "a_title", "b", "b_agency",
                "b_title", "review", "reasons",
            ]
            .map(str::to_owned)
            .to_vec(),
        )?;
    }
    for c in clusters {
        let find = |id: &str| c.activities.iter().find(|a| a.id == id);
        for p in &c.pairs {
            let (a, b) = (find(&p.a), find(&p.b));
            out.row(vec![
                c.id.clone(),
                p.level.clone(),
                format!("{:.3}", p.score),
                p.a.clone(),
                a.map(|x| x.agency_acronym.clone()).unwrap_or_default(),
                a.map(|x| x.title.clone()).unwrap_or_default(),
                p.b.clone(),
                b.map(|x| x.agency_acronym.clone()).unwrap_or_default(),
                b.map(|x| x.title.clone()).unwrap_or_default(),
                p.review
                    .as_ref()
                    .map(|r| r.decision.clone())
                    .unwrap_or_default(),
                p.reasons
                    .iter()
                    .filter(|r| r.weight > 0.0)
                    .map(|r| r.detail.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ])?;
        }
    }
    out.finish()
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// json (default) or csv.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
}

fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(ApiError::bad_request("format must be json or csv")),
    }
}

fn csv_download(filename: &str, rows: Vec<Vec<String>>) -> Result<HttpResponse, ApiError> {
    let mut out = icat_common::SpreadsheetCsv::new();
    for row in rows {
        out.row(row)?;
    }
    Ok(icat_common::web::download(
        "text/csv; charset=utf-8",
        filename,
        out.finish()?,
    ))
}

/// Who takes part (paragraph 8): per active member, its primary focal point and its recording in
/// the last 12 months.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FormatQuery),
    responses(
        (status = 200, description = "One entry per active member, by acronym (or CSV)", body = Vec<crate::summary::Participation>),
    )
)]
#[get("/api/v1/reports/participation")]
async fn participation(
    db: web::Data<Db>,
    _user: AuthUser,
    q: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = wants_csv(q.format.as_deref())?;
    let rows = db.run(crate::summary::participation).await?;
    if !csv {
        return Ok(HttpResponse::Ok().json(rows));
    }
    let mut table = vec![
        [
            "acronym",
            "name",
            "working_group",
            "has_primary_focal_point",
            "activities_last_12_months",
            "last_activity_at",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for p in rows {
        table.push(vec![
            p.acronym,
            p.name,
            p.working_group.to_string(),
            p.has_primary_focal_point.to_string(),
            p.activities_last_12_months.to_string(),
            p.last_activity_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
        ]);
    }
    csv_download("icat-participation.csv", table)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Activities running on or after this day (`YYYY-MM-DD`).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Activities running on or before this day (`YYYY-MM-DD`).
    #[param(format = Date)]
    pub to: Option<String>,
    /// json (default) or csv.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
}

/// The work of the members (paragraphs 5 and 13): activity counts by theme, SDG target, country
/// and agency, over a period.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(SummaryQuery),
    responses(
        (status = 200, description = "The counts (or CSV: dimension, key, count)", body = crate::summary::Summary),
        (status = 422, description = "`to` before `from`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reports/summary")]
async fn summary(
    db: web::Data<Db>,
    _user: AuthUser,
    q: web::Query<SummaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = wants_csv(q.format.as_deref())?;
    let bad = |field: &str, m: icat_common::Rule| ApiError::bad_request(format!("{field} {m}"));
    let from = q
        .from
        .as_deref()
        .map(|d| icat_common::validate::date(d).map_err(|m| bad("from", m)))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|d| icat_common::validate::date(d).map_err(|m| bad("to", m)))
            .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(ApiError::invalid_field(
            "to",
            icat_common::Rule::new("before", "must not be before from").with("other", "from"),
        ));
    }
    // The four dimensions are independent reads: side by side, a person waits for the slowest.
    let counts = futures_util::future::try_join_all(
        crate::summary::Dimension::ALL
            .map(|d| db.run(move |conn| crate::summary::counts(conn, d, from, to))),
    )
    .await?;
    let counts: [Vec<(String, i64)>; 4] = counts
        .try_into()
        .map_err(|_| ApiError::internal("a summary dimension is missing"))?;
    let report = crate::summary::summary(from, to, counts);
    if !csv {
        return Ok(HttpResponse::Ok().json(report));
    }
    let mut table = vec![vec![
        "dimension".to_owned(),
        "key".to_owned(),
        "count".to_owned(),
    ]];
    table.push(vec![
        "total".into(),
        String::new(),
        report.total.to_string(),
    ]);
    for (dimension, counts) in [
        ("theme", &report.by_theme),
        ("sdg_target", &report.by_sdg_target),
        ("country", &report.by_country),
        ("agency", &report.by_agency),
    ] {
        for c in counts {
            table.push(vec![
                dimension.to_owned(),
                c.key.clone(),
                c.count.to_string(),
            ]);
        }
    }
    csv_download("icat-summary.csv", table)
}

/// Who has designated a primary focal point (paragraph 9), and whose details have gone stale.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The coverage report", body = crate::coverage::Coverage),
    )
)]
#[get("/api/v1/reports/focal-point-coverage")]
async fn coverage(db: web::Data<Db>, _user: AuthUser) -> Result<HttpResponse, ApiError> {
    let report = db.run(crate::coverage::coverage).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlaceQuery {
    /// The first day of the period (`YYYY-MM-DD`; today when absent).
    #[param(format = Date)]
    pub from: Option<String>,
    /// The last day of the period (`YYYY-MM-DD`; `from` when absent: one day).
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(value_type = Option<Theme>)]
    pub theme: Option<String>,
    #[param(value_type = Option<SdgTarget>)]
    pub sdg: Option<String>,
    /// Agency id or acronym: its activities, and the pairs it is part of.
    pub agency: Option<String>,
    /// json (default) or csv.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
}

/// The filter of a place query; the agency is resolved to its id (an unknown one matches nothing).
async fn place_filter(
    db: &Db,
    q: PlaceQuery,
) -> Result<(crate::countries::Filter, bool), ApiError> {
    let csv = wants_csv(q.format.as_deref())?;
    let bad = |field: &str, m: icat_common::Rule| ApiError::bad_request(format!("{field} {m}"));
    let day = |field: &str, raw: &Option<String>| {
        raw.as_deref()
            .map(|d| icat_common::validate::date(d).map_err(|m| bad(field, m)))
            .transpose()
    };
    let from = day("from", &q.from)?.unwrap_or_else(|| icat_common::now().date());
    let to = day("to", &q.to)?.unwrap_or(from);
    if to < from {
        return Err(ApiError::invalid_field(
            "to",
            icat_common::Rule::new("before", "must not be before from").with("other", "from"),
        ));
    }
    let theme = q
        .theme
        .as_deref()
        .map(|t| vocab::theme(t).map_err(|m| bad("theme", m)))
        .transpose()?;
    let sdg = q
        .sdg
        .as_deref()
        .map(|t| vocab::sdg_target(t).map_err(|m| bad("sdg", m)))
        .transpose()?;
    let agency = match q.agency.filter(|a| !a.trim().is_empty()) {
        None => None,
        Some(a) => Some(
            db.read(move |conn| {
                Ok(icat_store::find_agency(conn, &a)?
                    .map(|(id, _)| id)
                    .unwrap_or(a))
            })
            .await?,
        ),
    };
    Ok((
        crate::countries::Filter {
            from,
            to,
            theme,
            sdg,
            agency,
        },
        csv,
    ))
}

/// Where the work is: per country, the activities running in the period (by theme and agency),
/// the open duplicate cases and the overlaps among them; for the world map.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(PlaceQuery),
    responses(
        (status = 200, description = "Countries with activities, most first (or CSV: one row a country)", body = crate::countries::Countries),
        (status = 422, description = "`to` before `from`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reports/countries")]
async fn countries(
    db: web::Data<Db>,
    _user: AuthUser,
    q: web::Query<PlaceQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, csv) = place_filter(&db, q.into_inner()).await?;
    let (activities, pairs) = futures_util::future::try_join(
        db.run({
            let filter = filter.clone();
            move |conn| crate::countries::activity_counts(conn, &filter)
        }),
        db.run({
            let filter = filter.clone();
            move |conn| crate::countries::pair_counts(conn, &filter)
        }),
    )
    .await?;
    let report = crate::countries::assemble(&filter, activities, pairs);
    if !csv {
        return Ok(HttpResponse::Ok().json(report));
    }
    let themes = vocab::THEMES;
    let mut table = vec![
        [
            "country",
            "activities",
            "agencies",
            "open_cases",
            "overlaps",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .chain(themes.iter().map(|t| format!("theme_{t}")))
        .collect::<Vec<_>>(),
    ];
    for c in report.countries {
        let mut row = vec![
            c.country,
            c.activities.to_string(),
            c.agencies.join("; "),
            c.open_cases.to_string(),
            c.overlaps.to_string(),
        ];
        row.extend(
            themes
                .iter()
                .map(|t| c.by_theme.get(*t).copied().unwrap_or(0).to_string()),
        );
        table.push(row);
    }
    csv_download("icat-countries.csv", table)
}

/// One country's work over a period: its activities by agency (with their themes), the pairs
/// between them with their level and review, and each agency's primary focal point.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("code" = CountryCode, Path, description = "ISO 3166-1 alpha-2"),
        PlaceQuery,
    ),
    responses(
        (status = 200, description = "The timeline (or CSV: one row an activity)", body = crate::countries::Timeline),
        (status = 404, description = "Not a country code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` before `from`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/countries/{code}/timeline")]
async fn timeline(
    db: web::Data<Db>,
    _user: AuthUser,
    code: web::Path<String>,
    q: web::Query<PlaceQuery>,
) -> Result<HttpResponse, ApiError> {
    let country = vocab::country(&code).map_err(ApiError::not_found)?;
    let (filter, csv) = place_filter(&db, q.into_inner()).await?;
    let line = db
        .run(move |conn| crate::countries::timeline(conn, &country, &filter))
        .await?;
    if !csv {
        return Ok(HttpResponse::Ok().json(line));
    }
    let mut table = vec![
        [
            "id",
            "agency",
            "title",
            "start_date",
            "end_date",
            "status",
            "themes",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect::<Vec<_>>(),
    ];
    for a in line.activities {
        table.push(vec![
            a.id,
            a.agency,
            a.title,
            a.start_date.to_string(),
            a.end_date.to_string(),
            a.status,
            a.themes.join("; "),
        ]);
    }
    csv_download(&format!("icat-timeline-{}.csv", line.country), table)
}
