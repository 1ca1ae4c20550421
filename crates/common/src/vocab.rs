//! The controlled vocabularies of the workspace: ISO 3166-1 alpha-2 country codes, the Global Plan of
//! Action's pillars (themes) and the SDG targets on trafficking.

use crate::Rule;

/// Every officially assigned ISO 3166-1 alpha-2 code (249 of them).
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO \
BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH \
ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL \
IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME \
MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH \
PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC \
TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The pillars of the Global Plan of Action to Combat Trafficking in Persons.
pub const THEMES: [&str; 4] = ["prevention", "protection", "prosecution", "partnerships"];

/// SDG targets that name trafficking: 5.2 (violence against women and girls), 8.7 (forced labour,
/// modern slavery, trafficking, child labour), 16.2 (abuse, exploitation, trafficking of children).
pub const SDG_TARGETS: [&str; 3] = ["5.2", "8.7", "16.2"];

/// What an activity's status can be.
pub const ACTIVITY_STATUSES: [&str; 4] = ["planned", "ongoing", "completed", "cancelled"];

/// A person's verdict on a pair of activities of two agencies.
pub const DECISIONS: [&str; 3] = ["duplicate", "not_duplicate", "coordinated"];

/// Every country code, in alphabetical order.
pub fn countries() -> impl Iterator<Item = &'static str> {
    COUNTRIES.split_ascii_whitespace()
}

/// A country code as stored: two upper-case letters that ISO 3166-1 assigns. Lower case is accepted.
pub fn country(raw: &str) -> Result<String, Rule> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 2 && countries().any(|c| c == code) {
        Ok(code)
    } else {
        Err(Rule::new(
            "not_a_country",
            format!("{raw:?} is not an ISO 3166-1 alpha-2 country code"),
        )
        .with("value", raw))
    }
}

pub fn theme(raw: &str) -> Result<String, Rule> {
    let theme = raw.trim().to_ascii_lowercase();
    if THEMES.contains(&theme.as_str()) {
        Ok(theme)
    } else {
        Err(Rule::not_allowed(
            raw,
            &THEMES,
            format!("{raw:?} is not a theme; use one of {}", THEMES.join(", ")),
        ))
    }
}

pub fn sdg_target(raw: &str) -> Result<String, Rule> {
    let target = raw.trim();
    if SDG_TARGETS.contains(&target) {
        Ok(target.to_owned())
    } else {
        Err(Rule::not_allowed(
            raw,
            &SDG_TARGETS,
            format!(
                "{raw:?} is not an SDG target here; use one of {}",
                SDG_TARGETS.join(", ")
            ),
        ))
    }
}

/// A language as an ISO 639-1 code (`en`, `fr`, `ar`) or a short BCP 47 tag (`pt-BR`).
pub fn language(raw: &str) -> Result<String, Rule> {
    let tag = raw.trim();
    if tag.len() > 20 {
        return Err(Rule::too_long(20));
    }
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    let region_ok =
        parts.all(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && region_ok
    {
        Ok(tag.to_owned())
    } else {
        Err(Rule::new(
            "not_a_language",
            format!("{raw:?} is not a language code like en, fr or pt-BR"),
        )
        .with("value", raw))
    }
}

/// Checks each entry of a list with `parse`, dropping repeats and keeping the first order.
pub fn list(
    raw: &[String],
    max: usize,
    parse: impl Fn(&str) -> Result<String, Rule>,
) -> Result<Vec<String>, Rule> {
    if raw.len() > max {
        return Err(
            Rule::new("too_many", format!("must have at most {max} entries")).with("max", max),
        );
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for item in raw {
        let value = parse(item)?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_country_list_is_complete_and_sorted() {
        let all: Vec<&str> = countries().collect();
        assert_eq!(all.len(), 249);
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(all, sorted);
    }

    #[test]
    fn codes_are_checked() {
        assert_eq!(country("ng"), Ok("NG".to_owned()));
        assert!(country("XX").is_err());
        assert!(country("NGA").is_err());
        assert_eq!(theme("Protection"), Ok("protection".to_owned()));
        assert!(theme("rescue").is_err());
        assert!(sdg_target("8.7").is_ok());
        assert!(sdg_target("1.1").is_err());
        assert!(language("pt-BR").is_ok());
        assert!(language("english").is_err());
    }

    #[test]
    fn lists_drop_repeats() {
        let raw = vec!["ng".to_owned(), "NG".to_owned(), "th".to_owned()];
        assert_eq!(
            list(&raw, 5, country),
            Ok(vec!["NG".to_owned(), "TH".to_owned()])
        );
        assert!(list(&raw, 2, country).is_err());
    }
}

/// OpenAPI schemas of the vocabularies, so that the document tells clients (and fuzzers) exactly
/// which values the API accepts. Used as `#[schema(value_type = ...)]` on plain `String` fields.
pub mod schema {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    macro_rules! vocabulary {
        ($name:ident, $doc:literal, $values:expr) => {
            #[doc = $doc]
            pub struct $name;
            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some($values))
                        .description(Some($doc))
                        .into()
                }
            }
            impl utoipa::ToSchema for $name {}
        };
    }

    vocabulary!(
        CountryCode,
        "An ISO 3166-1 alpha-2 country code.",
        super::countries()
    );
    vocabulary!(
        Theme,
        "A pillar of the Global Plan of Action.",
        super::THEMES
    );
    vocabulary!(
        SdgTarget,
        "An SDG target on trafficking.",
        super::SDG_TARGETS
    );
    vocabulary!(
        ActivityStatus,
        "An activity's status.",
        super::ACTIVITY_STATUSES
    );
    vocabulary!(Format, "`json` (the default) or `csv`.", ["json", "csv"]);
    vocabulary!(
        MatchLevel,
        "How alike two activities are.",
        ["duplicate", "possible", "overlap"]
    );
    vocabulary!(
        PairStatus,
        "Which pairs: not yet reviewed (`open`), `reviewed`, or `all`.",
        ["open", "reviewed", "all"]
    );
    vocabulary!(
        Decision,
        "A verdict on a pair of activities.",
        super::DECISIONS
    );

    /// One line of text: the API trims it and refuses it empty or holding control characters.
    const LINE: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
    /// Several lines: the same, but line breaks and tabs are welcome.
    const LINES: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";

    macro_rules! text {
        ($name:ident, $doc:literal, $pattern:expr, $max:expr) => {
            #[doc = $doc]
            pub struct $name;
            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some($pattern))
                        .max_length(Some($max))
                        .description(Some($doc))
                        .into()
                }
            }
            impl utoipa::ToSchema for $name {}
        };
    }

    text!(Name, "One line of text, up to 200 characters.", LINE, 200);
    text!(Acronym, "One line of text, up to 20 characters.", LINE, 20);
    text!(
        EmailAddress,
        "An e-mail address (compared without regard to case).",
        r#"^[^\s@"\u0000-\u001f\u007f-\u009f]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"#,
        254
    );
    text!(
        WebAddress,
        "An http(s) address.",
        r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$",
        2048
    );
    text!(
        Phone,
        "A telephone number: 5 to 20 digits, with spaces, +, (, ), -, . or /.",
        r"^[ +()./-]*([0-9][ +()./-]*){5,20}$",
        40
    );
    text!(
        Language,
        "An ISO 639 language code, optionally with a region: en, fr, pt-BR.",
        r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,3})*$",
        20
    );

    /// A new password: 12 to 128 characters; common ones are refused (422).
    pub struct Password;
    impl utoipa::PartialSchema for Password {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(12))
                .max_length(Some(128))
                .description(Some("12 to 128 characters; common passwords are refused."))
                .into()
        }
    }
    impl utoipa::ToSchema for Password {}
    text!(Title, "One line of text, up to 300 characters.", LINE, 300);
    text!(
        Description,
        "Text of up to 10,000 characters; line breaks allowed.",
        LINES,
        10_000
    );
}
