//! CSV import and export of activities. Columns by header name, in any order; lists inside a cell
//! separated by `;`; an HXL hashtag row under the header is recognised on import and written on
//! export.

use crate::model::{self, Data, Exported, Raw, json_list};
use icat_common::{ApiError, FieldError, Rule, Violations};

/// The columns, with their HXL hashtags.
pub const COLUMNS: [(&str, &str); 13] = [
    ("id", "#activity+id"),
    ("agency", "#org+acronym"),
    ("title", "#activity+title"),
    ("description", "#activity+description"),
    ("countries", "#country+code+list"),
    ("themes", "#sector+list"),
    ("sdg_targets", "#indicator+sdg+list"),
    ("target_groups", "#group+targeted+list"),
    ("partners", "#org+partner+list"),
    ("start_date", "#date+start"),
    ("end_date", "#date+end"),
    ("status", "#status"),
    ("budget_usd", "#value+budget+usd"),
];

const REQUIRED: [&str; 6] = [
    "title",
    "description",
    "countries",
    "themes",
    "start_date",
    "end_date",
];

/// One valid row of an upload: the line it came from, the agency acronym it names, its data.
pub struct ImportRow {
    pub line: usize,
    pub agency: Option<String>,
    pub data: Data,
}

fn list(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses an upload; every row's complaints come back together, and any complaint means nothing
/// of the file is taken.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportRow>, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        ApiError::invalid(vec![FieldError::new(
            "file",
            None,
            Rule::new("not_utf8", "must be UTF-8 text"),
        )])
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            ApiError::invalid(vec![FieldError::new(
                "header",
                Some(1),
                Rule::new("unreadable", format!("cannot be read: {e}")),
            )])
        })?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut errors = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        // A repeated column would silently lose one of its two cells in every row.
        if h.is_empty() {
            errors.push(FieldError::new(
                &format!("column {}", i + 1),
                Some(1),
                Rule::new("column_unnamed", "has no name"),
            ));
            continue;
        }
        if headers[..i].contains(h) {
            errors.push(FieldError::new(
                h,
                Some(1),
                Rule::new("column_repeated", "is named twice"),
            ));
            continue;
        }
        if !COLUMNS.iter().any(|(name, _)| name == h) {
            errors.push(FieldError::new(
                h,
                Some(1),
                Rule::new("column_unknown", "is not a column of the activity log"),
            ));
        }
    }
    for required in REQUIRED {
        if !headers.iter().any(|h| h == required) {
            errors.push(FieldError::new(
                required,
                Some(1),
                Rule::new("column_missing", "column is missing"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(index + 2, |p| {
                usize::try_from(p.line()).unwrap_or(index + 2)
            });
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FieldError::new(
                    "row",
                    Some(line),
                    Rule::new("unreadable", format!("cannot be read: {e}")),
                ));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if index == 0
            && record
                .iter()
                .filter(|c| !c.is_empty())
                .all(|c| c.starts_with('#'))
        {
            continue; // the HXL hashtag row
        }
        if record.len() != headers.len() {
            errors.push(FieldError::new(
                "row",
                Some(line),
                Rule::new(
                    "cell_count",
                    format!(
                        "has {} cells where the header has {}",
                        record.len(),
                        headers.len()
                    ),
                )
                .with("cells", record.len())
                .with("columns", headers.len()),
            ));
            continue;
        }
        // Cells this service exported carry an apostrophe before a leading formula character or
        // apostrophe (`icat_common::spreadsheet_cell`): one comes off.
        let cell = |name: &str| {
            let raw = column(name).and_then(|i| record.get(i)).unwrap_or_default();
            raw.strip_prefix('\'')
                .filter(|rest| rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']))
                .unwrap_or(raw)
        };
        let mut v = Violations::new();
        let budget = match cell("budget_usd") {
            "" => None,
            raw => match raw.replace([',', ' '], "").parse::<f64>() {
                Ok(b) => Some(b),
                Err(_) => {
                    v.add(
                        "budget_usd",
                        Rule::new("not_a_number", "must be a number of US dollars"),
                    );
                    None
                }
            },
        };
        let status = Some(cell("status")).filter(|s| !s.is_empty());
        let (countries, themes, sdgs, groups, partners) = (
            list(cell("countries")),
            list(cell("themes")),
            list(cell("sdg_targets")),
            list(cell("target_groups")),
            list(cell("partners")),
        );
        let data = model::parse(
            &Raw {
                title: cell("title"),
                description: cell("description"),
                countries: &countries,
                themes: &themes,
                sdg_targets: &sdgs,
                target_groups: &groups,
                partners: &partners,
                start_date: cell("start_date"),
                end_date: cell("end_date"),
                status,
                budget_usd: budget,
            },
            &mut v,
        );
        match data {
            Some(data) if v.is_empty() => rows.push(ImportRow {
                line,
                agency: Some(cell("agency").to_owned()).filter(|a| !a.is_empty()),
                data,
            }),
            _ => errors.extend(v.into_rows(line)),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// Activities as CSV, with the HXL hashtag row under the header.
/// Activities, with their agency's acronym, as rows of the export, under its two header rows when
/// `header`: one chunk of a streamed export.
pub fn export(rows: &[(Exported, String)], header: bool) -> Result<String, ApiError> {
    let mut out = icat_common::SpreadsheetCsv::new();
    if header {
        out.row(COLUMNS.iter().map(|(h, _)| *h))?;
        out.row(COLUMNS.iter().map(|(_, t)| *t))?;
    }
    let list = |json: &str| json_list(json).join(";");
    for (a, acronym) in rows {
        out.row([
            a.id.as_str(),
            acronym,
            &a.title,
            &a.description,
            &list(&a.countries),
            &list(&a.themes),
            &list(&a.sdg_targets),
            &list(&a.target_groups),
            &list(&a.partners),
            &a.start_date.to_string(),
            &a.end_date.to_string(),
            &a.status,
            &a.budget_usd.map(|b| b.to_string()).unwrap_or_default(),
        ])?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cell text with what breaks CSV and spreadsheets: separators, quotes, line breaks, formula
    /// characters and apostrophes at the start, accents, emoji.
    const TEXT: &str = "[a-zA-Z0-9 ,;\"'=+@\\-\t\n\r\u{e9}\u{1F600}]{1,30}";

    proptest::proptest! {
        /// Any bytes sent as a CSV file get rows or a list of errors, never a panic.
        #[test]
        fn any_bytes_parse_or_are_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse(&bytes);
        }

        /// Any activity the API accepts comes back from export and import as it was, every field:
        /// quotes, separators, line breaks, a leading formula character or apostrophe, accents and
        /// emoji included. Values the API refuses are skipped (they are not in any export).
        #[test]
        fn accepted_activities_round_trip_through_export_and_import(
            title in TEXT,
            description in TEXT,
            countries in proptest::sample::subsequence(vec!["NG", "KE", "FR", "BR", "TH"], 1..4),
            themes in proptest::sample::subsequence(vec!["prevention", "protection", "prosecution", "partnerships"], 1..3),
            sdg_targets in proptest::sample::subsequence(vec!["5.2", "8.7", "16.2"], 0..3),
            target_groups in proptest::collection::vec(TEXT, 0..3),
            partners in proptest::collection::vec(TEXT, 0..3),
            start in 0i64..40_000,
            days in 0i64..3_000,
            status in proptest::sample::select(vec!["planned", "ongoing", "completed", "cancelled"]),
            budget_usd in proptest::option::of(0u32..4_000_000_000),
        ) {
            let day = |n: i64| {
                (chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default() + chrono::Duration::days(n)).to_string()
            };
            let owned = |l: Vec<&str>| l.into_iter().map(str::to_owned).collect::<Vec<_>>();
            let (countries, themes, sdg_targets) = (owned(countries), owned(themes), owned(sdg_targets));
            let (start_date, end_date) = (day(start), day(start + days));
            let raw = Raw {
                title: &title, description: &description, countries: &countries, themes: &themes,
                sdg_targets: &sdg_targets, target_groups: &target_groups, partners: &partners,
                start_date: &start_date, end_date: &end_date, status: Some(status),
                budget_usd: budget_usd.map(f64::from),
            };
            let Some(data) = model::parse(&raw, &mut Violations::default()) else {
                return Ok(());
            };
            let json = |l: &[String]| serde_json::to_string(l).unwrap_or_default();
            let exported = Exported {
                id: "0193a0e2-0000-7000-8000-000000000000".into(),
                title: data.title.clone(),
                description: data.description.clone(),
                countries: json(&data.countries),
                themes: json(&data.themes),
                sdg_targets: json(&data.sdg_targets),
                target_groups: json(&data.target_groups),
                partners: json(&data.partners),
                start_date: data.start_date,
                end_date: data.end_date,
                status: data.status.clone(),
                budget_usd: data.budget_usd,
            };
            let file = export(&[(exported, "UNODC".into())], true);
            proptest::prop_assert!(file.is_ok());
            let rows = parse(file.unwrap_or_default().as_bytes());
            proptest::prop_assert!(rows.is_ok(), "{:?}", rows.err());
            let rows = rows.unwrap_or_default();
            proptest::prop_assert_eq!(rows.len(), 1);
            proptest::prop_assert_eq!(rows[0].agency.as_deref(), Some("UNODC"));
            proptest::prop_assert_eq!(&rows[0].data, &data);
        }

        /// Text shaped like the import's own files, with damage in the cells.
        #[test]
        fn damaged_files_parse_or_are_refused(
            rows in proptest::collection::vec("[a-zA-Z0-9 ;,\"=+@\\-]{0,40}", 0..6),
        ) {
            let mut text = String::from("title,description,countries,themes,start_date,end_date\n#activity+title,#description,#country,#sector,#date+start,#date+end\n");
            for r in rows {
                text.push_str(&r);
                text.push('\n');
            }
            let _ = parse(text.as_bytes());
        }
    }
}
