//! Golden-value tests against SciPy 1.17.1 / statsmodels 0.15.0 (`tests/fixtures/stats_golden.json`).

use super::*;
use serde_json::Value;

const EXACT: f64 = 1e-9;
const APPROX: f64 = 1e-6;

fn golden() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/stats_golden.json")).expect("golden json")
}

/// `got` equals `want` within relative error `tol` (absolute 1e-300 for values that are 0).
#[track_caller]
fn close(got: f64, want: f64, tol: f64, what: &str) {
    let ok = if want == 0.0 {
        got.abs() < 1e-300
    } else {
        ((got - want) / want).abs() <= tol
    };
    assert!(ok, "{what}: got {got:e}, want {want:e} (rel err {:e})", ((got - want) / want).abs());
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn u(v: &Value) -> u64 {
    v.as_u64().expect("count")
}

fn vecf(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

fn table2(v: &Value) -> [[u64; 2]; 2] {
    [[u(&v[0][0]), u(&v[0][1])], [u(&v[1][0]), u(&v[1][1])]]
}

#[test]
fn fisher_matches_scipy() {
    for case in golden()["fisher_exact"].as_array().unwrap() {
        let t = table2(&case["table"]);
        for (key, alt) in [("two-sided", Alternative::TwoSided), ("greater", Alternative::Greater), ("less", Alternative::Less)] {
            let r = fisher_exact(t, alt);
            close(r.p_value, f(&case[key]), EXACT, &format!("fisher {t:?} {key}"));
        }
        let or = fisher_exact(t, Alternative::TwoSided).odds_ratio;
        match case["odds_ratio"].as_f64() {
            Some(want) => close(or, want, EXACT, &format!("odds ratio {t:?}")),
            None => assert!(!or.is_finite(), "odds ratio {t:?} should be inf/nan, got {or}"),
        }
    }
}

#[test]
fn fisher_large_table_is_exact_where_statrs_is_not() {
    // The table statrs 0.19.1 gets wrong (0.477): scipy.stats.fisher_exact([[360,240],[300,300]]).
    let p = fisher_exact([[360, 240], [300, 300]], Alternative::TwoSided).p_value;
    close(p, 0.0006121168811804619, EXACT, "fisher 600/arm");
    // 10^5 per arm: scipy.stats.fisher_exact([[50400, 49600], [50000, 50000]]).
    let p = fisher_exact([[50400, 49600], [50000, 50000]], Alternative::TwoSided).p_value;
    close(p, 0.07435899225786646, EXACT, "fisher 1e5/arm");
}

#[test]
fn two_proportion_z_matches_statsmodels() {
    for case in golden()["two_proportion_z"].as_array().unwrap() {
        let (k, n) = (&case["k"], &case["n"]);
        let r = two_proportion_z(u(&k[0]), u(&n[0]), u(&k[1]), u(&n[1]), Alternative::TwoSided);
        close(r.statistic, f(&case["z"]), APPROX, "z");
        close(r.p_value, f(&case["p_two_sided"]), APPROX, "z p");
    }
}

#[test]
fn proportion_intervals_match_statsmodels() {
    for case in golden()["proportion_intervals"].as_array().unwrap() {
        let (k, n, level) = (u(&case["k"]), u(&case["n"]), f(&case["level"]));
        let w = wilson_interval(k, n, level);
        let cp = clopper_pearson_interval(k, n, level);
        let ww = vecf(&case["wilson"]);
        let wc = vecf(&case["clopper_pearson"]);
        // statsmodels' Wilson lower bound at k = 0 is 0 up to rounding (e.g. 2e-19).
        if k == 0 {
            assert_eq!(w.0, 0.0);
            assert!(ww[0] < 1e-15);
        } else {
            close(w.0, ww[0], APPROX, &format!("wilson lo {k}/{n}"));
        }
        close(w.1, ww[1], APPROX, &format!("wilson hi {k}/{n}"));
        close(cp.0, wc[0], EXACT, &format!("cp lo {k}/{n}"));
        close(cp.1, wc[1], EXACT, &format!("cp hi {k}/{n}"));
    }
}

#[test]
fn t_tests_match_scipy() {
    for case in golden()["t_tests"].as_array().unwrap() {
        let (x, y) = (vecf(&case["x"]), vecf(&case["y"]));
        let w = welch_t(&x, &y, Alternative::TwoSided, 0.95);
        let gw = &case["welch"];
        close(w.t, f(&gw["t"]), APPROX, "welch t");
        close(w.df, f(&gw["df"]), APPROX, "welch df");
        close(w.p_value, f(&gw["p_two_sided"]), APPROX, "welch p");
        let ci = vecf(&gw["ci95_diff"]);
        close(w.ci.0, ci[0], APPROX, "welch ci lo");
        close(w.ci.1, ci[1], APPROX, "welch ci hi");
        let s = student_t(&x, &y, Alternative::TwoSided, 0.95);
        close(s.t, f(&case["student"]["t"]), APPROX, "student t");
        close(s.df, f(&case["student"]["df"]), APPROX, "student df");
        close(s.p_value, f(&case["student"]["p_two_sided"]), APPROX, "student p");
        let o = one_sample_t(&x, 0.5, Alternative::TwoSided, 0.95);
        close(o.t, f(&case["one_sample_x_vs_0.5"]["t"]), APPROX, "one-sample t");
        close(o.p_value, f(&case["one_sample_x_vs_0.5"]["p_two_sided"]), APPROX, "one-sample p");
    }
}

#[test]
fn paired_t_matches_scipy() {
    // scipy.stats.ttest_rel(x, y) and its .confidence_interval(0.95).
    let x = [0.61, 0.42, 0.55, 0.71, 0.38, 0.49, 0.66, 0.52, 0.47, 0.58];
    let y = [0.66, 0.51, 0.52, 0.80, 0.45, 0.61, 0.70, 0.49, 0.66, 0.62];
    let r = paired_t(&x, &y, Alternative::TwoSided, 0.95);
    close(r.t, -3.0106383312570273, APPROX, "paired t");
    close(r.p_value, 0.01470063497140768, APPROX, "paired p");
    close(r.ci.0, -0.1103374366414788, APPROX, "paired ci lo");
    close(r.ci.1, -0.01566256335852123, APPROX, "paired ci hi");
}

#[test]
fn mann_whitney_matches_scipy() {
    for case in golden()["mann_whitney"].as_array().unwrap() {
        let (x, y) = (vecf(&case["x"]), vecf(&case["y"]));
        let r = mann_whitney_u(&x, &y, Alternative::TwoSided);
        close(r.u_x, f(&case["U_x"]), APPROX, "U");
        close(r.p_value, f(&case["p_two_sided_asymptotic_cc"]), APPROX, "mwu p");
    }
}

#[test]
fn chi2_matches_scipy() {
    for case in golden()["chi2_independence"].as_array().unwrap() {
        let t: Vec<Vec<u64>> = case["table"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(u).collect()).collect();
        let r = chi2_independence(&t, true).unwrap();
        close(r.statistic, f(&case["chi2"]), APPROX, "chi2");
        close(r.df, f(&case["df"]), EXACT, "chi2 df");
        close(r.p_value, f(&case["p"]), APPROX, "chi2 p");
    }
    // scipy.stats.chi2_contingency([[12, 5], [7, 14]]) (Yates' correction at df = 1).
    let r = chi2_independence(&[vec![12, 5], vec![7, 14]], true).unwrap();
    close(r.statistic, 3.831932773109244, APPROX, "yates chi2");
    close(r.p_value, 0.05028491606049412, APPROX, "yates p");
    assert!(chi2_independence(&[vec![0, 0], vec![3, 4]], true).is_err());
}

#[test]
fn binomial_test_matches_scipy() {
    for case in golden()["binomial_test"].as_array().unwrap() {
        let (k, n, p0) = (u(&case["k"]), u(&case["n"]), f(&case["p0"]));
        close(binomial_test(k, n, p0, Alternative::TwoSided), f(&case["p_two_sided"]), EXACT, "binom two-sided");
        close(binomial_test(k, n, p0, Alternative::Greater), f(&case["p_greater"]), EXACT, "binom greater");
    }
}

#[test]
fn mcnemar_matches_statsmodels() {
    for case in golden()["mcnemar_exact"].as_array().unwrap() {
        close(mcnemar_exact(table2(&case["table"])), f(&case["p_exact"]), EXACT, "mcnemar");
    }
}

#[test]
fn multiple_comparisons_match_statsmodels() {
    for case in golden()["multiple_comparisons"].as_array().unwrap() {
        let p = vecf(&case["p"]);
        for (key, adj) in [("holm", holm(&p)), ("bonferroni", bonferroni(&p)), ("fdr_bh", benjamini_hochberg(&p))] {
            let want = vecf(&case[key]["adjusted"]);
            let reject: Vec<bool> = case[key]["reject_at_0.05"].as_array().unwrap().iter().map(|b| b.as_bool().unwrap()).collect();
            for i in 0..p.len() {
                close(adj[i], want[i], EXACT, key);
                assert_eq!(adj[i] <= 0.05, reject[i], "{key} reject {i}");
            }
        }
    }
}

#[test]
fn tost_matches_statsmodels() {
    for case in golden()["tost_welch"].as_array().unwrap() {
        let (x, y) = (vecf(&case["x"]), vecf(&case["y"]));
        let r = tost_welch(&x, &y, f(&case["low"]), f(&case["high"]));
        close(r.p_value, f(&case["p"]), APPROX, "tost welch");
    }
}
