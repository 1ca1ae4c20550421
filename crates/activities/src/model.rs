//! Activities as stored, as shown, and as accepted: parse, don't validate.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use icat_common::vocab::schema::{
    ActivityStatus, CountryCode, Description, Name, SdgTarget, Theme, Title,
};
use icat_common::{ApiError, Rule, Violations, validate, vocab};
use icat_store::schema::activities;
use serde::{Deserialize, Serialize};

/// Where an activity stands.
pub const STATUSES: [&str; 4] = icat_common::vocab::ACTIVITY_STATUSES;

/// The columns an activity is shown with (not the engine's features nor the search words: large,
/// and read only by the duplicate check and the search index).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = activities)]
pub struct Row {
    pub id: String,
    pub agency_id: String,
    pub title: String,
    pub description: String,
    pub countries: String,
    pub themes: String,
    pub sdg_targets: String,
    pub target_groups: String,
    pub partners: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: String,
    pub budget_usd: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
    pub version: i32,
}

/// The columns an export writes, all stored before the features: SQLite reads a row's later
/// columns through the features' overflow pages, which were most of an export's time.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = activities)]
pub struct Exported {
    pub id: String,
    pub title: String,
    pub description: String,
    pub countries: String,
    pub themes: String,
    pub sdg_targets: String,
    pub target_groups: String,
    pub partners: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: String,
    pub budget_usd: Option<i64>,
}

/// An activity as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: String,
    pub agency_id: String,
    pub agency_acronym: String,
    pub title: String,
    pub description: String,
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    /// Pillars: prevention, protection, prosecution, partnerships.
    pub themes: Vec<String>,
    /// SDG targets: 5.2, 8.7, 16.2.
    pub sdg_targets: Vec<String>,
    pub target_groups: Vec<String>,
    pub partners: Vec<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// planned, ongoing, completed or cancelled.
    pub status: String,
    /// Whole US dollars.
    pub budget_usd: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

pub fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Activity {
    pub fn from_row(row: Row, agency_acronym: String) -> Self {
        Activity {
            countries: json_list(&row.countries),
            themes: json_list(&row.themes),
            sdg_targets: json_list(&row.sdg_targets),
            target_groups: json_list(&row.target_groups),
            partners: json_list(&row.partners),
            id: row.id,
            agency_id: row.agency_id,
            agency_acronym,
            title: row.title,
            description: row.description,
            start_date: row.start_date,
            end_date: row.end_date,
            status: row.status,
            budget_usd: row.budget_usd,
            created_by: row.created_by,
            created_at: icat_common::utc(row.created_at),
            updated_at: icat_common::utc(row.updated_at),
            version: row.version,
        }
    }

    /// The activity's fields as a request body would give them (for merging a PATCH).
    pub fn data(&self) -> Data {
        Data {
            title: self.title.clone(),
            description: self.description.clone(),
            countries: self.countries.clone(),
            themes: self.themes.clone(),
            sdg_targets: self.sdg_targets.clone(),
            target_groups: self.target_groups.clone(),
            partners: self.partners.clone(),
            start_date: self.start_date,
            end_date: self.end_date,
            status: self.status.clone(),
            budget_usd: self.budget_usd,
        }
    }
}

/// A request body of `POST /api/v1/activities` and `/check`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    /// Admins name the agency; editors may omit it (their own agency is used).
    pub agency_id: Option<String>,
    #[schema(value_type = Title)]
    pub title: String,
    #[schema(value_type = Description)]
    pub description: String,
    #[schema(value_type = Vec<CountryCode>, min_items = 1, max_items = 60)]
    pub countries: Vec<String>,
    #[schema(value_type = Vec<Theme>, min_items = 1, max_items = 4)]
    pub themes: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<SdgTarget>, max_items = 10)]
    pub sdg_targets: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Name>, max_items = 20)]
    pub target_groups: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Name>, max_items = 50)]
    pub partners: Vec<String>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub start_date: String,
    /// `YYYY-MM-DD`, not before `start_date`.
    #[schema(format = Date)]
    pub end_date: String,
    /// planned (default), ongoing, completed or cancelled.
    #[schema(value_type = Option<ActivityStatus>)]
    pub status: Option<String>,
    /// Whole US dollars.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_usd: Option<f64>,
}

/// A validated activity. (Serialised only for the idempotency fingerprint.)
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Data {
    pub title: String,
    pub description: String,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    pub sdg_targets: Vec<String>,
    pub target_groups: Vec<String>,
    pub partners: Vec<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: String,
    pub budget_usd: Option<i64>,
}

/// The years an activity may run in: year 0 or 9999 is a typing slip, not a plan, and would sit at
/// the ends of every list, timeline and period comparison.
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// A date of an activity: a [`date`] within [`YEARS`].
pub fn activity_date(raw: &str) -> Result<NaiveDate, Rule> {
    let day = validate::date(raw)?;
    if YEARS.contains(&day.year()) {
        Ok(day)
    } else {
        Err(Rule::new(
            "out_of_range",
            format!("must be in the years {} to {}", YEARS.start(), YEARS.end()),
        )
        .with("min", *YEARS.start())
        .with("max", *YEARS.end()))
    }
}

pub fn status(raw: &str) -> Result<String, Rule> {
    let s = raw.trim().to_lowercase();
    if STATUSES.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(Rule::not_allowed(
            raw,
            &STATUSES,
            format!("must be one of {}", STATUSES.join(", ")),
        ))
    }
}

pub fn budget(raw: f64) -> Result<i64, Rule> {
    if !raw.is_finite() || !(0.0..=1e12).contains(&raw) {
        return Err(Rule::new(
            "out_of_range",
            "must be a number of US dollars from 0 to 1,000,000,000,000",
        )
        .with("min", 0)
        .with("max", 1_000_000_000_000_i64));
    }
    if raw.fract() != 0.0 {
        return Err(Rule::new("not_whole", "must be whole US dollars"));
    }
    // In range and whole: the conversion is exact.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "checked to be a whole number below 1e12"
    )]
    Ok(raw as i64)
}

/// Partners and target groups: names, none holding the `;` that separates them in CSV files
/// (a name with one would come back from an export and import as two).
fn names(raw: &[String], max: usize) -> Result<Vec<String>, Rule> {
    vocab::list(raw, max, |n| {
        if n.contains(';') {
            return Err(Rule::new(
                "separator",
                format!("\"{n}\" must not contain ';', which separates names in CSV files"),
            )
            .with("value", n)
            .with("separator", ";"));
        }
        validate::text(n, 200)
    })
}

/// The fewest characters a title may have: "ab" names no work anyone could recognise.
pub const TITLE_MIN: usize = 5;

/// The raw fields of an activity, from a JSON body or a CSV row.
pub struct Raw<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub countries: &'a [String],
    pub themes: &'a [String],
    pub sdg_targets: &'a [String],
    pub target_groups: &'a [String],
    pub partners: &'a [String],
    pub start_date: &'a str,
    pub end_date: &'a str,
    pub status: Option<&'a str>,
    pub budget_usd: Option<f64>,
}

/// Parses an activity, collecting every field's complaint.
pub fn parse(raw: &Raw<'_>, v: &mut Violations) -> Option<Data> {
    let title = v.check(
        "title",
        validate::text(raw.title, 300).and_then(|t| {
            if t.chars().count() < TITLE_MIN {
                Err(Rule::too_short(TITLE_MIN))
            } else {
                Ok(t)
            }
        }),
    );
    let description = v.check("description", long_text(raw.description, 10_000));
    let countries = v.check(
        "countries",
        non_empty(vocab::list(raw.countries, 60, vocab::country)),
    );
    let themes = v.check(
        "themes",
        non_empty(vocab::list(raw.themes, 4, vocab::theme)),
    );
    let sdg_targets = v.check(
        "sdg_targets",
        vocab::list(raw.sdg_targets, 10, vocab::sdg_target),
    );
    let target_groups = v.check("target_groups", names(raw.target_groups, 20));
    let partners = v.check("partners", names(raw.partners, 50));
    let start = v.check("start_date", activity_date(raw.start_date));
    let end = v.check("end_date", activity_date(raw.end_date));
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        v.add(
            "end_date",
            Rule::new("before", "must not be before start_date").with("other", "start_date"),
        );
    }
    let status = v.check("status", status(raw.status.unwrap_or("planned")));
    let budget_usd = match raw.budget_usd {
        Some(b) => v.check("budget_usd", budget(b)).map(Some),
        None => Some(None),
    };
    if !v.is_empty() {
        return None;
    }
    Some(Data {
        title: title?,
        description: description?,
        countries: countries?,
        themes: themes?,
        sdg_targets: sdg_targets?,
        target_groups: target_groups?,
        partners: partners?,
        start_date: start?,
        end_date: end?,
        status: status?,
        budget_usd: budget_usd?,
    })
}

fn non_empty(list: Result<Vec<String>, Rule>) -> Result<Vec<String>, Rule> {
    match list {
        Ok(l) if l.is_empty() => Err(Rule::new("required", "must name at least one")),
        other => other,
    }
}

/// Multi-line text: trimmed, bounded, no control characters but line breaks and tabs.
fn long_text(raw: &str, max: usize) -> Result<String, Rule> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Rule::required());
    }
    if value.chars().count() > max {
        return Err(Rule::too_long(max));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(validate::control_characters());
    }
    validate::readable(value)?;
    Ok(value.to_owned())
}

impl ActivityBody {
    pub fn parse(&self, v: &mut Violations) -> Option<Data> {
        parse(
            &Raw {
                title: &self.title,
                description: &self.description,
                countries: &self.countries,
                themes: &self.themes,
                sdg_targets: &self.sdg_targets,
                target_groups: &self.target_groups,
                partners: &self.partners,
                start_date: &self.start_date,
                end_date: &self.end_date,
                status: self.status.as_deref(),
                budget_usd: self.budget_usd,
            },
            v,
        )
    }
}

/// A request body of `PATCH /api/v1/activities/{id}`: absent fields stay as they are.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityChange {
    #[schema(value_type = Option<Title>)]
    pub title: Option<String>,
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<CountryCode>>, min_items = 1, max_items = 60)]
    pub countries: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<Theme>>, min_items = 1, max_items = 4)]
    pub themes: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<SdgTarget>>, max_items = 10)]
    pub sdg_targets: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<Name>>, max_items = 20)]
    pub target_groups: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<Name>>, max_items = 50)]
    pub partners: Option<Vec<String>>,
    #[schema(format = Date)]
    pub start_date: Option<String>,
    #[schema(format = Date)]
    pub end_date: Option<String>,
    #[schema(value_type = Option<ActivityStatus>)]
    pub status: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub budget_usd: Option<Option<f64>>,
}

impl ActivityChange {
    /// The current activity with this change applied, validated as a whole.
    pub fn apply(&self, current: &Data) -> Result<Data, ApiError> {
        let start = current.start_date.to_string();
        let end = current.end_date.to_string();
        let mut v = Violations::new();
        let data = parse(
            &Raw {
                title: self.title.as_deref().unwrap_or(&current.title),
                description: self.description.as_deref().unwrap_or(&current.description),
                countries: self.countries.as_deref().unwrap_or(&current.countries),
                themes: self.themes.as_deref().unwrap_or(&current.themes),
                sdg_targets: self.sdg_targets.as_deref().unwrap_or(&current.sdg_targets),
                target_groups: self
                    .target_groups
                    .as_deref()
                    .unwrap_or(&current.target_groups),
                partners: self.partners.as_deref().unwrap_or(&current.partners),
                start_date: self.start_date.as_deref().unwrap_or(&start),
                end_date: self.end_date.as_deref().unwrap_or(&end),
                status: Some(self.status.as_deref().unwrap_or(&current.status)),
                budget_usd: match self.budget_usd {
                    Some(b) => b,
                    #[expect(clippy::cast_precision_loss, reason = "budgets are below 2^53")]
                    None => current.budget_usd.map(|b| b as f64),
                },
            },
            &mut v,
        );
        v.into_result()?;
        data.ok_or_else(|| ApiError::internal("validated activity missing"))
    }
}

impl Data {
    /// What makes two records of one agency the same activity: normalised title, countries, dates.
    pub fn same_key(&self) -> String {
        let mut countries = self.countries.clone();
        countries.sort();
        format!(
            "{}|{}|{}|{}",
            icat_common::search::terms(&self.title).join(" "),
            countries.join(","),
            self.start_date,
            self.end_date
        )
    }

    /// The words `q` finds the activity by: those of title, description, partners and target
    /// groups, folded, once each, separated by spaces (what the full-text index reads).
    pub fn search_terms(&self) -> String {
        let text = format!(
            "{} {} {} {}",
            self.title,
            self.description,
            self.partners.join(" "),
            self.target_groups.join(" ")
        );
        icat_common::search::terms(&text).join(" ")
    }

    /// The words of the title, folded like [`Self::search_terms`] (of which they are the start):
    /// a search ranks the activities whose title holds every word first.
    pub fn title_terms(&self) -> String {
        title_terms(&self.title)
    }

    /// The duplicate engine's view of the activity, with its sentence vector (`meaning`, from
    /// [`crate::FeatureCache::meaning`]; empty for none).
    pub fn features(&self, agency_id: &str, meaning: &[f32]) -> icat_dedup::Features {
        icat_dedup::features(&icat_dedup::Input {
            agency: agency_id,
            title: &self.title,
            description: &self.description,
            countries: &self.countries,
            themes: &self.themes,
            sdg_targets: &self.sdg_targets,
            target_groups: &self.target_groups,
            partners: &self.partners,
            start: self.start_date,
            end: self.end_date,
            meaning,
        })
    }
}

/// A possible duplicate or overlap of an activity, with the reasons it was flagged.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Match {
    pub activity_id: String,
    pub agency_id: String,
    pub agency_acronym: String,
    pub title: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The probability (0..1) that the two activities are the same work.
    pub score: f64,
    /// duplicate (score at least 0.9), possible (at least 0.5) or overlap (different work in a
    /// shared country, period and theme).
    pub level: String,
    pub reasons: Vec<ReasonView>,
}

/// One feature's contribution to a score.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReasonView {
    /// title, description, countries, period, themes, sdg_targets, target_groups, partners, phase,
    /// meaning (the texts' sentence vectors, where the descriptions do not already share most
    /// words).
    pub feature: String,
    /// 0..1.
    pub similarity: f64,
    /// log2 odds added to the score (negative: evidence against).
    pub weight: f64,
    /// The reason in English, worded from `code` and `params`.
    pub detail: String,
    /// What the reason found, stable across releases, for clients that word it in their own
    /// language: title_words {shared}; description_words {shared, of}; no_countries;
    /// same_countries, countries_within, shared_countries {items: country codes};
    /// no_country_shared; period_overlap {days, span}; period_apart {a_start, a_end, b_start,
    /// b_end}; shared_themes {items: theme codes}; no_theme_shared; shared_sdg_targets {items};
    /// no_sdg_target_shared; target_group_words {shared}; shared_partners {shared}; same_phase
    /// {a: markers}; different_phase {a, b}; meaning_same, meaning_much, meaning_related,
    /// meaning_different {percent, a_language?, b_language?: en, fr or es}. Empty on pairs stored
    /// before codes existed (their `detail` stands alone).
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
}

impl From<&icat_dedup::Reason> for ReasonView {
    fn from(r: &icat_dedup::Reason) -> Self {
        ReasonView {
            feature: r.feature.to_owned(),
            similarity: r.similarity,
            weight: r.weight,
            detail: r.detail.clone(),
            code: r.code.to_owned(),
            params: r
                .params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::to_value(v).unwrap_or_default()))
                .collect(),
        }
    }
}

/// A title's folded words, separated by spaces (see [`Data::title_terms`]).
pub fn title_terms(title: &str) -> String {
    icat_common::search::terms(title).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A JSON body holding any strings is validated field by field: a complaint per field or
        /// data, never a panic; what passes has a start no later than its end.
        #[test]
        fn any_body_is_judged_without_panic(
            title in "\\PC{0,80}",
            words in proptest::collection::vec("\\PC{0,12}", 0..5),
            start in "[0-9-]{0,12}|2027-0[1-9]-[0-2][0-9]",
            end in "[0-9-]{0,12}|2027-0[1-9]-[0-2][0-9]",
            budget in proptest::option::of(proptest::num::f64::ANY),
        ) {
            let body = ActivityBody {
                agency_id: None,
                title: title.clone(),
                description: title,
                countries: words.clone(),
                themes: words.clone(),
                sdg_targets: words.clone(),
                target_groups: words.clone(),
                partners: words,
                start_date: start,
                end_date: end,
                status: None,
                budget_usd: budget,
            };
            let mut v = Violations::new();
            if let Some(data) = body.parse(&mut v) {
                proptest::prop_assert!(data.start_date <= data.end_date);
                proptest::prop_assert!(v.is_empty());
            } else {
                proptest::prop_assert!(!v.is_empty());
            }
        }
    }
}
