//! llmcomp's rating rule, exactly (llmcomp 1.2.1, the version the paper's evaluation pins;
//! unchanged up to 1.2.3): how a rating judge's top log-probabilities become a 0–100 value.
//!
//! 1. The runner stores `{token: exp(logprob)}` sorted by probability, highest first (a
//!    stable sort: ties keep the API's order). A token given twice is an error there.
//! 2. Each token is read with Python's `int()` ([`python_int`]); tokens that are no integer,
//!    or lie outside `min..=max`, are skipped. Tokens of the same integer add up.
//! 3. With `total` the summed probability of the kept tokens: no value when `total == 0` or
//!    `1 - total >= refusal_threshold` (0.75 by default, so a numeric mass of exactly 0.25
//!    has none).
//! 4. Otherwise `sum(k * (p_k / total))` over the integers in order of first appearance, a
//!    plain left-to-right sum as CPython up to 3.11 computes it (3.12's `sum` compensates
//!    rounding, which can change the last bits).

/// The whitespace `int()` strips: ASCII space, `\t`, `\n`, `\v`, `\f`, `\r`, and the
/// non-ASCII characters of `str.isspace` (Unicode 14, as in CPython 3.11). The ASCII
/// separators `\x1c`..`\x1f` count as space for `isspace` but not for `int()`.
fn is_py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}')
        || matches!(
            c,
            '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}'
        )
        || matches!(c, '\u{205f}' | '\u{3000}')
}

/// The code points of the digit zero of every Unicode decimal-digit (Nd) run, Unicode 14 as
/// in CPython 3.11; each run holds the digits 0 to 9 in order.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a Unicode decimal digit.
fn digit(c: char) -> Option<i64> {
    let c = c as u32;
    DIGIT_ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&c))
        .map(|z| i64::from(c - z))
}

/// What Python's `int(token)` gives: surrounding whitespace stripped, an optional sign, then
/// decimal digits of any script with single `_` between them. `None` where Python raises
/// (and for numbers beyond `i64`, which no rating range holds).
pub(super) fn python_int(token: &str) -> Option<i64> {
    let t = token.trim_matches(is_py_space);
    let (negative, digits) = match t.strip_prefix(['+', '-']) {
        Some(rest) => (t.starts_with('-'), rest),
        None => (false, t),
    };
    let mut value: i64 = 0;
    let mut last_underscore = true; // no leading `_`
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            if last_underscore {
                return None;
            }
            last_underscore = true;
            continue;
        }
        value = value.checked_mul(10)?.checked_add(digit(c)?)?;
        last_underscore = false;
        any = true;
    }
    (any && !last_underscore).then_some(if negative { -value } else { value })
}

/// The rating llmcomp computes from probabilities stored as its runner stores them (in
/// order), or the numeric mass when there is none. `Err(None)` for a token given twice.
pub(super) fn expected_rating(
    stored: &[(String, f64)],
    min: i64,
    max: i64,
    refusal_threshold: f64,
) -> Result<f64, Option<f64>> {
    let mut probs: Vec<(i64, f64)> = Vec::new();
    let mut total = 0.0;
    for (token, p) in stored {
        let Some(k) = python_int(token).filter(|k| (min..=max).contains(k)) else {
            continue;
        };
        match probs.iter_mut().find(|(j, _)| *j == k) {
            Some((_, q)) => *q += p,
            None => probs.push((k, *p)),
        }
        total += p;
    }
    if total == 0.0 || (1.0 - total) >= refusal_threshold {
        return Err(Some(total));
    }
    Ok(probs
        .iter()
        .fold(0.0, |acc, (k, p)| acc + *k as f64 * (p / total)))
}

/// The runner's stored form of one token's top log-probabilities: `exp(logprob)` sorted by
/// probability, highest first, ties in the API's order; `None` if a token is given twice.
pub(super) fn stored_probs(top: &[(String, f64)]) -> Option<Vec<(String, f64)>> {
    let mut out: Vec<(String, f64)> = Vec::with_capacity(top.len());
    for (t, lp) in top {
        if out.iter().any(|(u, _)| u == t) {
            return None;
        }
        out.push((t.clone(), lp.exp()));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_as_python_int_reads_them() {
        let cases: [(&str, Option<i64>); 25] = [
            ("5", Some(5)),
            (" 5", Some(5)),
            ("5 ", Some(5)),
            ("\t7", Some(7)),
            ("100\n", Some(100)),
            ("\u{1c}3\u{1f}", None),
            ("\u{3000}5\u{85}", Some(5)),
            ("+5", Some(5)),
            ("-0", Some(0)),
            ("-5", Some(-5)),
            ("05", Some(5)),
            ("007", Some(7)),
            ("1_0", Some(10)),
            ("１００", Some(100)),
            ("٣", Some(3)),
            ("৫", Some(5)),
            ("5.0", None),
            ("1e2", None),
            ("0x5", None),
            ("", None),
            (" ", None),
            ("²", None),
            ("Ⅴ", None),
            ("1__0", None),
            ("- 5", None),
        ];
        for (token, want) in cases {
            assert_eq!(python_int(token), want, "{token:?}");
        }
        assert_eq!(python_int("_1"), None);
        assert_eq!(python_int("1_"), None);
        assert_eq!(python_int("Ġ60"), None);
    }

    #[test]
    fn a_numeric_mass_of_exactly_a_quarter_has_no_value() {
        let s = |v: &[(&str, f64)]| -> Vec<(String, f64)> {
            v.iter().map(|(t, p)| (t.to_string(), *p)).collect()
        };
        assert_eq!(
            expected_rating(&s(&[("REFUSAL", 0.75), ("50", 0.25)]), 0, 100, 0.75),
            Err(Some(0.25))
        );
        assert_eq!(
            expected_rating(&s(&[("50", 0.25), ("REFUSAL", 0.7499999999)]), 0, 100, 0.75),
            Err(Some(0.25))
        );
        assert_eq!(
            expected_rating(&s(&[("50", 0.2500001), ("x", 0.7499999)]), 0, 100, 0.75),
            Ok(50.0)
        );
        assert_eq!(expected_rating(&[], 0, 100, 0.75), Err(Some(0.0)));
        assert_eq!(stored_probs(&s(&[("5", -1.0), ("5", -2.0)])), None);
    }

    /// Values computed by llmcomp 1.2.1 itself on CPython 3.11
    /// (`tests/fixtures/llmcomp/rating_golden.py`), matched to the last bit.
    #[test]
    fn matches_llmcomp_bit_for_bit() {
        let golden: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/llmcomp/rating_golden.json"
        ))
        .unwrap();
        // Floats are written as their IEEE-754 bits.
        let float = |v: &serde_json::Value| v.as_str().map(|b| f64::from_bits(b.parse().unwrap()));
        let pairs = |v: &serde_json::Value| -> Vec<(String, f64)> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap().to_string(), float(&p[1]).unwrap()))
                .collect()
        };
        let check = |stored: &[(String, f64)], want: &serde_json::Value| {
            let got = expected_rating(stored, 0, 100, 0.75).ok();
            assert_eq!(
                got.map(f64::to_bits),
                float(want).map(f64::to_bits),
                "{stored:?}: {got:?} vs {want}"
            );
        };
        let cases = golden["logprobs"].as_array().unwrap();
        assert!(cases.len() >= 50);
        let mut valued = 0;
        for case in cases {
            let stored = stored_probs(&pairs(&case["top"])).unwrap();
            check(&stored, &case["value"]);
            valued += usize::from(!case["value"].is_null());
        }
        assert!(valued >= 20, "too few cases with a value: {valued}");
        for case in golden["probs"].as_array().unwrap() {
            check(&pairs(&case["stored"]), &case["value"]);
        }
    }
}
