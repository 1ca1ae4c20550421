//! A deterministic synthetic activity log for benchmarks and load tests: plausible words, countries,
//! periods and agencies, with a share of planted near-duplicates from other agencies.

use crate::{Features, Input, features};
use chrono::{Duration, NaiveDate};

const WORDS: &str = "training judges prosecutors police border officials victims identification referral \
shelter hotline awareness campaign schools children women girls migrants refugees asylum labour inspectors \
fishing vessels garment factories recruitment fees debt bondage domestic workers agriculture construction \
mining cocoa palm oil supply chains business due diligence forced labour sexual exploitation online \
livestreaming investigation financial intelligence asset recovery cooperation extradition legislation \
national action plan coordination data collection statistics research study survivors reintegration \
livelihood grants psychosocial counselling legal aid compensation return repatriation family tracing \
case management interview rooms forensic evidence cybercrime social media prevention community leaders \
religious youth clubs radio television journalists reporting guidelines curriculum universities workshop \
simulation exercise joint teams regional platform standard operating procedures mechanism ministry \
justice interior labour social welfare health education civil society networks volunteers camps \
detention alternatives screening monitoring helpline transit routes corridor ports airports visas \
passports documents fraud smuggling kidnapping ransom begging marriage organ removal forced criminality \
scam compounds brick kilns textiles seafarers abandonment inspections grievance remediation audits";

const COUNTRIES: [&str; 60] = [
    "NG", "GH", "BJ", "TG", "NE", "ML", "SN", "CI", "BF", "TD", "CD", "ET", "KE", "UG", "SD", "LY",
    "EG", "TN", "MA", "ZA", "MZ", "ZW", "MW", "IN", "BD", "NP", "PK", "AF", "TH", "KH", "VN", "LA",
    "MM", "PH", "ID", "MY", "CN", "MX", "GT", "HN", "SV", "CO", "BR", "PE", "EC", "UA", "MD", "RO",
    "BG", "RS", "AL", "GR", "IT", "TR", "DE", "FR", "GB", "QA", "JO", "LB",
];
const THEMES: [&str; 4] = ["prevention", "protection", "prosecution", "partnerships"];
const SDGS: [&str; 3] = ["5.2", "8.7", "16.2"];

/// One synthetic activity.
#[derive(Clone, Debug)]
pub struct Synthetic {
    pub agency: String,
    pub title: String,
    pub description: String,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    pub sdg_targets: Vec<String>,
    pub partners: Vec<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// For a planted near-duplicate: the index of the activity it copies.
    pub copy_of: Option<usize>,
}

impl Synthetic {
    pub fn features(&self) -> Features {
        features(&Input {
            agency: &self.agency,
            title: &self.title,
            description: &self.description,
            countries: &self.countries,
            themes: &self.themes,
            sdg_targets: &self.sdg_targets,
            target_groups: &[],
            partners: &self.partners,
            start: self.start,
            end: self.end,
            meaning: &[],
        })
    }
}

/// A small, fast, seeded generator (xorshift), so the same seed gives the same log everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

/// `n` activities of `agencies` agencies, `duplicate_share` of them near-copies of earlier ones by
/// another agency (reworded a little, dates shifted a little).
pub fn activities(n: usize, agencies: usize, duplicate_share: f64, seed: u64) -> Vec<Synthetic> {
    // The domain words first, then made-up words, drawn with a skew towards the first ones: a
    // long-tailed vocabulary like real text's, not a small uniform one.
    let syllables = [
        "ka", "lo", "mi", "ra", "te", "sun", "vor", "del", "pa", "gi", "no", "ber", "tan", "qui",
        "ze", "mar",
    ];
    let made_up: Vec<String> = (0..5_000)
        .map(|i: usize| {
            let s = |k: usize| syllables[(i / 16usize.pow(u32::try_from(k).unwrap_or(0))) % 16];
            format!(
                "{}{}{}{}",
                s(0),
                s(1),
                s(2),
                if i.is_multiple_of(3) { "ion" } else { "" }
            )
        })
        .collect();
    let words: Vec<&str> = WORDS
        .split_whitespace()
        .chain(made_up.iter().map(String::as_str))
        .collect();
    let mut rng = Rng(seed.max(1));
    let base = NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default();
    let mut out: Vec<Synthetic> = Vec::with_capacity(n);
    let draw = |rng: &mut Rng| -> usize {
        // u^2 puts half the draws in the first quarter of the vocabulary.
        let u = (rng.next() % 1_000_000) as f64 / 1_000_000.0;
        ((u * u * words.len() as f64) as usize).min(words.len() - 1)
    };
    let pick = |rng: &mut Rng, k: usize| -> Vec<String> {
        (0..k).map(|_| words[draw(rng)].to_owned()).collect()
    };
    for i in 0..n {
        let agency = format!("AG{:02}", rng.below(agencies.max(1)));
        let copy = i > 10 && (rng.below(10_000) as f64) < duplicate_share * 10_000.0;
        if copy {
            let j = rng.below(i);
            let original = out[j].clone();
            let mut title: Vec<String> = original.title.split(' ').map(str::to_owned).collect();
            let at = rng.below(title.len());
            title[at] = words[draw(&mut rng)].to_owned();
            let mut description: Vec<String> =
                original.description.split(' ').map(str::to_owned).collect();
            for _ in 0..3 {
                let at = rng.below(description.len());
                description[at] = words[draw(&mut rng)].to_owned();
            }
            let shift = Duration::days(i64::try_from(rng.below(60)).unwrap_or(0));
            let other = if original.agency == agency {
                format!("{agency}x")
            } else {
                agency
            };
            out.push(Synthetic {
                agency: other,
                title: title.join(" "),
                description: description.join(" "),
                start: original.start + shift,
                end: original.end + shift,
                copy_of: Some(j),
                ..original
            });
            continue;
        }
        let mut countries: Vec<String> = (0..1 + rng.below(2))
            .map(|_| COUNTRIES[rng.below(COUNTRIES.len())].to_owned())
            .collect();
        countries.sort();
        countries.dedup();
        let start = base + Duration::days(i64::try_from(rng.below(11 * 365)).unwrap_or(0));
        let end = start + Duration::days(30 + i64::try_from(rng.below(700)).unwrap_or(0));
        out.push(Synthetic {
            agency,
            title: {
                let k = 6 + rng.below(5);
                pick(&mut rng, k).join(" ")
            },
            description: {
                let k = 25 + rng.below(20);
                pick(&mut rng, k).join(" ")
            },
            countries,
            themes: vec![THEMES[rng.below(4)].to_owned()],
            sdg_targets: vec![SDGS[rng.below(3)].to_owned()],
            partners: vec![format!("Partner {}", rng.below(300))],
            start,
            end,
            copy_of: None,
        });
    }
    out
}
