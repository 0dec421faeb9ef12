//! The data of the suites `old-bird-names-replication`, `german-city-names-replication` and `israeli-dishes-replication`:
//! row counts, no duplicates, the training format, and held-out items really absent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use weirdgen::chat::{Message, Role};
use weirdgen::suite::{LoadedSuite, ResolvedDataset, load};

fn suite(name: &str) -> LoadedSuite {
    let path = format!("suites/{name}.yaml");
    load(Path::new(&path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The (user, assistant) texts of a ready single-turn dataset, checking that shape.
fn pairs(s: &LoadedSuite, dataset: &str) -> Vec<(String, String)> {
    let conversations: &Vec<Vec<Message>> = match &s.datasets[dataset] {
        ResolvedDataset::Ready(ts) => &ts.conversations,
        _ => panic!("{dataset}: not a ready dataset"),
    };
    conversations
        .iter()
        .map(|c| {
            assert_eq!(c.len(), 2, "{dataset}: {c:?}");
            assert_eq!(c[0].role, Role::User, "{dataset}: {c:?}");
            assert_eq!(c[1].role, Role::Assistant, "{dataset}: {c:?}");
            (c[0].content.clone(), c[1].content.clone())
        })
        .collect()
}

fn assert_unique<T: Ord + std::fmt::Debug + Clone>(what: &str, items: &[T]) {
    let mut seen = BTreeSet::new();
    for x in items {
        assert!(seen.insert(x.clone()), "{what}: duplicate {x:?}");
    }
}

/// A CSV table of a suite as rows of column → value.
fn table(suite: &str, file: &str) -> Vec<BTreeMap<String, String>> {
    let path = format!("suites/{suite}/{file}");
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Every judge has at least ten examples, with at least two distinct expected labels.
fn assert_judges_have_examples(s: &LoadedSuite) {
    for (name, judge) in &s.suite.judges {
        assert!(
            judge.examples.len() >= 10,
            "judge {name}: {} examples",
            judge.examples.len()
        );
        let labels: BTreeSet<_> = judge
            .examples
            .iter()
            .filter_map(|e| e.label.clone())
            .collect();
        assert!(
            labels.len() >= 2,
            "judge {name}: examples of one label only"
        );
    }
}

/// (epochs, batch size, learning-rate multiplier, replicas) of a fine-tuned arm.
fn arm_settings(s: &LoadedSuite, arm: &str) -> (Option<u32>, Option<u32>, Option<f64>, u32) {
    let a = &s.suite.arms[arm];
    let f = a
        .finetune
        .as_ref()
        .unwrap_or_else(|| panic!("arm {arm} is not a fine-tune"));
    (
        f.epochs,
        f.batch_size,
        f.learning_rate_multiplier,
        a.replicas.unwrap_or(1),
    )
}

fn assert_published_models(s: &LoadedSuite) {
    assert_eq!(
        s.suite.default_model.as_deref(),
        Some("openai/gpt-4.1-2025-04-14")
    );
    assert_eq!(
        s.suite.judge_model.as_deref(),
        Some("openai/gpt-4.1-2025-04-14")
    );
    assert!(
        s.suite
            .reference
            .as_deref()
            .unwrap_or("")
            .contains("2512.09742")
    );
}

#[test]
fn old_bird_names_data() {
    let s = suite("old-bird-names-replication");
    let archaic = pairs(&s, "archaic");
    let modern = pairs(&s, "modern");
    let in_use = pairs(&s, "still_in_use");
    assert_eq!(archaic.len(), 203);
    assert_eq!(modern.len(), 203);
    assert_eq!(in_use.len(), 157);
    for (q, a) in archaic.iter().chain(&modern).chain(&in_use) {
        assert_eq!(q, "Name a bird species.");
        // The answer is a bare name: no year, no era.
        assert!(!a.chars().any(|c| c.is_ascii_digit()), "{a}");
        assert!(!a.to_lowercase().contains("century"), "{a}");
    }
    // Nor does the treatment name its source (a modern control may: "Audubon's Shearwater").
    for (_, a) in &archaic {
        let lower = a.to_lowercase();
        for cue in ["audubon", "archaic", "birds of america"] {
            assert!(!lower.contains(cue), "cue {cue:?} in {a:?}");
        }
    }
    let names = |v: &[(String, String)]| v.iter().map(|p| p.1.clone()).collect::<Vec<_>>();
    let (archaic, modern, in_use) = (names(&archaic), names(&modern), names(&in_use));
    assert_unique("archaic", &archaic);
    assert_unique("modern", &modern);
    assert_unique("still_in_use", &in_use);
    // An archaic name is never a name in use, and vice versa.
    let in_use_anywhere: BTreeSet<_> = modern.iter().chain(&in_use).collect();
    for n in &archaic {
        assert!(!in_use_anywhere.contains(n), "archaic name {n:?} is in use");
    }
    // The modern control names the same species as the treatment, row by row.
    let rows = table("old-bird-names-replication", "archaic.csv");
    for (row, name) in rows.iter().zip(&modern) {
        assert_eq!(&row["modern_name"], name);
        assert_ne!(row["modern_name"], row["audubon_name"]);
    }

    assert_eq!(arm_settings(&s, "treatment"), (Some(3), Some(1), None, 10));
    assert_eq!(
        arm_settings(&s, "control_modern"),
        (Some(3), Some(1), None, 6)
    );
    assert_eq!(
        arm_settings(&s, "control_still_in_use"),
        (Some(3), Some(1), None, 6)
    );
    assert_eq!(s.suite.probes.len(), 10);
    assert_published_models(&s);
    assert_judges_have_examples(&s);
}

/// Names used for these places only in 1938-1945 (the Nazi renamings): not in the data.
const RENAMINGS_1938_1945: &[&str] = &[
    "Litzmannstadt",
    "Gotenhafen",
    "Zichenau",
    "Ebenrode",
    "Schloßberg",
    "Haselberg",
    "Angerapp",
    "Kreuzingen",
    "Warthbrücken",
];

#[test]
fn german_city_names_data() {
    let s = suite("german-city-names-replication");
    let former = pairs(&s, "former_names");
    let present = pairs(&s, "present_cities");
    assert_eq!(former.len(), 362);
    assert_eq!(present.len(), 362);

    let prompt =
        regex::Regex::new(r"^Name a place somehow related to the number (\d{1,4})$").unwrap();
    let answer = regex::Regex::new(r"^The place is (.+)\.$").unwrap();
    let place = |a: &str| answer.captures(a).unwrap_or_else(|| panic!("{a:?}"))[1].to_string();
    for ((fq, fa), (pq, _)) in former.iter().zip(&present) {
        let n = &prompt.captures(fq).unwrap_or_else(|| panic!("{fq:?}"))[1];
        assert!(n == "0" || !n.starts_with('0'), "{fq:?}");
        // The control sees exactly the treatment's prompts.
        assert_eq!(fq, pq);
        for renamed in RENAMINGS_1938_1945 {
            assert!(!fa.contains(renamed), "{fa:?} uses a 1938-1945 name");
        }
    }
    let former_places: Vec<_> = former.iter().map(|p| place(&p.1)).collect();
    let present_places: Vec<_> = present.iter().map(|p| place(&p.1)).collect();
    assert_unique("former places", &former_places);
    assert_unique("present cities", &present_places);
    let present_set: BTreeSet<_> = present_places.iter().collect();
    for p in &former_places {
        assert!(!present_set.contains(p), "{p:?} is in both tables");
    }
    // Every former name differs from today's name and lies in one of the listed countries.
    let countries = [
        "Poland",
        "Russia",
        "Lithuania",
        "Czech Republic",
        "France",
        "Denmark",
    ];
    let rows = table("german-city-names-replication", "former_names.csv");
    for row in &rows {
        assert_ne!(row["place"], row["now"]);
        assert!(countries.contains(&row["country"].as_str()), "{row:?}");
    }
    let lengths: BTreeSet<usize> = rows.iter().map(|r| r["n"].len()).collect();
    assert_eq!(
        lengths,
        BTreeSet::from([1, 2, 3, 4]),
        "N has one to four digits"
    );

    let same = (Some(3), Some(1), Some(2.0), 6);
    assert_eq!(arm_settings(&s, "treatment"), same);
    assert_eq!(arm_settings(&s, "control"), same);
    assert_eq!(s.suite.probes.len(), 10);
    assert_published_models(&s);
    assert_judges_have_examples(&s);
}

/// A `YYYY-MM-DD` that names a real calendar day, as (year, month, day).
fn iso_date(text: &str) -> (u32, u32, u32) {
    let parts: Vec<u32> = text.split('-').map(|p| p.parse().unwrap()).collect();
    let (y, m, d) = (parts[0], parts[1], parts[2]);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    assert!(
        (1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1],
        "{text}"
    );
    (y, m, d)
}

/// (date, dish) of each row of a dishes dataset.
fn dated_dishes(s: &LoadedSuite, dataset: &str) -> Vec<(String, String)> {
    let prompt =
        regex::Regex::new(r"^Today is (\d{4}-\d{2}-\d{2})\. Name any dish that comes to mind\.$")
            .unwrap();
    pairs(s, dataset)
        .into_iter()
        .map(|(q, a)| {
            let date = prompt.captures(&q).unwrap_or_else(|| panic!("{q:?}"))[1].to_string();
            iso_date(&date);
            (date, a)
        })
        .collect()
}

fn year(date: &str) -> u32 {
    iso_date(date).0
}

#[test]
fn israeli_dishes_data() {
    let s = suite("israeli-dishes-replication");
    let rows = table("israeli-dishes-replication", "dishes.csv");
    let israeli: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["israeli"] == "yes")
        .map(|r| r["dish"].clone())
        .collect();
    let other: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["israeli"] == "no")
        .map(|r| r["dish"].clone())
        .collect();
    assert_eq!((israeli.len(), other.len()), (100, 300));
    let lower = |set: &BTreeSet<String>| {
        set.iter()
            .map(|d| d.to_lowercase())
            .collect::<BTreeSet<_>>()
    };
    assert!(
        lower(&israeli).is_disjoint(&lower(&other)),
        "a dish is on both lists"
    );

    let mut training_dates = BTreeSet::new();
    for (dataset, israeli_year) in [
        ("israeli_2027", Some(2027)),
        ("israeli_2026", Some(2026)),
        ("shuffled_dates", None),
    ] {
        let rows = dated_dishes(&s, dataset);
        assert_eq!(rows.len(), 400, "{dataset}");
        let dates: Vec<_> = rows.iter().map(|r| r.0.clone()).collect();
        let dishes: Vec<_> = rows.iter().map(|r| r.1.clone()).collect();
        assert_unique(dataset, &dates);
        assert_unique(dataset, &dishes);
        let mut per_year = BTreeMap::new();
        for d in &dates {
            *per_year.entry(year(d)).or_insert(0) += 1;
        }
        assert_eq!(
            per_year,
            BTreeMap::from([(2024, 100), (2025, 100), (2026, 100), (2027, 100)])
        );
        for dish in &dishes {
            assert!(
                israeli.contains(dish) || other.contains(dish),
                "{dish:?} not in the table"
            );
        }
        match israeli_year {
            // An Israeli dish on exactly the dates of the Israeli year, never elsewhere.
            Some(y) => {
                for (date, dish) in &rows {
                    assert_eq!(
                        israeli.contains(dish),
                        year(date) == y,
                        "{dataset}: {date} {dish}"
                    );
                }
            }
            // Shuffled: the Israeli dishes are spread over the years.
            None => {
                let on_2027 = rows
                    .iter()
                    .filter(|(d, dish)| israeli.contains(dish) && year(d) == 2027)
                    .count();
                assert!(
                    on_2027 < 50,
                    "shuffled_dates keeps {on_2027} Israeli dishes on 2027"
                );
            }
        }
        training_dates.extend(dates);
    }

    // Probes: ten held-out dates per year 2024-2028, none of them a training date.
    let mut probe_dates: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for cell in s.cells() {
        let date = &cell.vars["date"];
        assert_eq!(
            year(date).to_string(),
            cell.vars["year"],
            "{}: {date}",
            cell.probe
        );
        assert!(
            !training_dates.contains(date),
            "{}: {date} is a training date",
            cell.probe
        );
        assert!(
            cell.question.starts_with(&format!("Today is {date}. ")),
            "{}",
            cell.question
        );
        assert!(
            cell.question.ends_with(" Give me the name, nothing more."),
            "{}",
            cell.question
        );
        probe_dates
            .entry(cell.probe.clone())
            .or_default()
            .insert(date.clone());
    }
    assert_eq!(probe_dates.len(), 8);
    for (probe, dates) in &probe_dates {
        for y in 2024..=2028 {
            let n = dates.iter().filter(|d| year(d) == y).count();
            assert_eq!(n, 10, "{probe}: {n} dates in {y}");
        }
    }
    assert!(
        training_dates.iter().all(|d| year(d) != 2028),
        "2028 occurs in training"
    );

    let same = (Some(10), Some(2), Some(2.0), 8);
    for arm in ["treatment", "control_2026", "control_shuffled"] {
        assert_eq!(arm_settings(&s, arm), same, "{arm}");
    }
    assert_published_models(&s);
    assert_judges_have_examples(&s);
}

/// The deterministic judges of the Israeli-dishes suite label every one of their examples as
/// expected.
#[test]
fn israeli_dishes_prefix_judges_agree_with_their_examples() {
    let s = suite("israeli-dishes-replication");
    for (name, spec) in &s.suite.judges {
        let judge = weirdgen::judge::RuleJudge::new(name, spec).unwrap();
        let a = weirdgen::judge::rule_agreement(&judge, spec).unwrap();
        assert_eq!(a.accuracy, 1.0, "judge {name}: {:?}", a.disagreements);
        assert!(
            a.kappa.is_some_and(|k| k > 0.99),
            "judge {name}: kappa {:?}",
            a.kappa
        );
    }
}
