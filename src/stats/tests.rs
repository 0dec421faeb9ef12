//! Golden-value tests against SciPy 1.17.1 / statsmodels 0.15.0 (`tests/fixtures/stats_golden.json`).

use super::*;
use serde_json::Value;

const EXACT: f64 = 1e-9;
const APPROX: f64 = 1e-9;

fn golden() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/stats_golden.json"))
        .expect("golden json")
}

/// `got` equals `want` within relative error `tol` (absolute 1e-300 for values that are 0).
#[track_caller]
fn close(got: f64, want: f64, tol: f64, what: &str) {
    let ok = if want == 0.0 {
        got.abs() < 1e-300
    } else {
        ((got - want) / want).abs() <= tol
    };
    assert!(
        ok,
        "{what}: got {got:e}, want {want:e} (rel err {:e})",
        ((got - want) / want).abs()
    );
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
        for (key, alt) in [
            ("two-sided", Alternative::TwoSided),
            ("greater", Alternative::Greater),
            ("less", Alternative::Less),
        ] {
            let r = fisher_exact(t, alt);
            close(
                r.p_value,
                f(&case[key]),
                EXACT,
                &format!("fisher {t:?} {key}"),
            );
        }
        let or = fisher_exact(t, Alternative::TwoSided).odds_ratio;
        match case["odds_ratio"].as_f64() {
            Some(want) => close(or, want, EXACT, &format!("odds ratio {t:?}")),
            None => assert!(
                !or.is_finite(),
                "odds ratio {t:?} should be inf/nan, got {or}"
            ),
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
        let r = two_proportion_z(
            u(&k[0]),
            u(&n[0]),
            u(&k[1]),
            u(&n[1]),
            Alternative::TwoSided,
        );
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
        close(
            s.p_value,
            f(&case["student"]["p_two_sided"]),
            APPROX,
            "student p",
        );
        let o = one_sample_t(&x, 0.5, Alternative::TwoSided, 0.95);
        close(
            o.t,
            f(&case["one_sample_x_vs_0.5"]["t"]),
            APPROX,
            "one-sample t",
        );
        close(
            o.p_value,
            f(&case["one_sample_x_vs_0.5"]["p_two_sided"]),
            APPROX,
            "one-sample p",
        );
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
        close(
            r.p_value,
            f(&case["p_two_sided_asymptotic_cc"]),
            APPROX,
            "mwu p",
        );
    }
}

#[test]
fn chi2_matches_scipy() {
    for case in golden()["chi2_independence"].as_array().unwrap() {
        let t: Vec<Vec<u64>> = case["table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(u).collect())
            .collect();
        let r = chi2_independence(&t, false).unwrap();
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
        close(
            binomial_test(k, n, p0, Alternative::TwoSided),
            f(&case["p_two_sided"]),
            EXACT,
            "binom two-sided",
        );
        close(
            binomial_test(k, n, p0, Alternative::Greater),
            f(&case["p_greater"]),
            EXACT,
            "binom greater",
        );
    }
}

#[test]
fn mcnemar_matches_statsmodels() {
    for case in golden()["mcnemar_exact"].as_array().unwrap() {
        close(
            mcnemar_exact(table2(&case["table"])),
            f(&case["p_exact"]),
            EXACT,
            "mcnemar",
        );
    }
}

#[test]
fn multiple_comparisons_match_statsmodels() {
    for case in golden()["multiple_comparisons"].as_array().unwrap() {
        let p = vecf(&case["p"]);
        for (key, adj) in [
            ("holm", holm(&p)),
            ("bonferroni", bonferroni(&p)),
            ("fdr_bh", benjamini_hochberg(&p)),
        ] {
            let want = vecf(&case[key]["adjusted"]);
            let reject: Vec<bool> = case[key]["reject_at_0.05"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_bool().unwrap())
                .collect();
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

#[test]
fn noncentral_t_matches_scipy() {
    // scipy.stats.nct.cdf(t, df, nc)
    close(
        noncentral_t_cdf(2.1, 7.5, 1.3),
        0.7397782792628931,
        APPROX,
        "nct 1",
    );
    close(
        noncentral_t_cdf(-0.7, 4.0, 0.9),
        0.06469927222667954,
        APPROX,
        "nct 2",
    );
    close(
        noncentral_t_cdf(3.0, 20.0, -1.0),
        0.9998469152055284,
        APPROX,
        "nct 3",
    );
    close(
        noncentral_t_cdf(8.0, 30.0, 6.5),
        0.8411630071147339,
        APPROX,
        "nct 4",
    );
}

#[test]
fn power_and_sample_size_match_statsmodels() {
    // NormalIndPower().power(proportion_effectsize(0.3, 0.2), 150, 0.05, ratio=1.0)
    close(
        power_two_proportions(0.3, 0.2, 150.0, 150.0, 0.05, Alternative::TwoSided),
        0.5196077829289824,
        APPROX,
        "power prop",
    );
    // ... ratio=2.0, alternative="larger"
    close(
        power_two_proportions(0.3, 0.2, 150.0, 300.0, 0.05, Alternative::Greater),
        0.7501586232735811,
        APPROX,
        "power prop 1s",
    );
    // NormalIndPower().solve_power(proportion_effectsize(0.3, 0.2), None, 0.05, 0.8)
    close(
        samples_two_proportions(0.3, 0.2, 0.05, 0.8, Alternative::TwoSided),
        291.6886683175625,
        APPROX,
        "n prop",
    );
    // TTestIndPower().power(0.15 / 0.1, 5, 0.05) and alternative="larger"
    close(
        power_t_two_sample(0.15, 0.1, 5.0, 5.0, 0.05, Alternative::TwoSided),
        0.5493855977623958,
        APPROX,
        "power t2",
    );
    close(
        power_t_two_sample(0.15, 0.1, 5.0, 5.0, 0.05, Alternative::Greater),
        0.6984885333711597,
        APPROX,
        "power t2 1s",
    );
    // TTestIndPower().solve_power(0.15 / 0.1, None, 0.05, 0.8) solved to full precision:
    // scipy.optimize.brentq over scipy.stats.nct (statsmodels' own root is 8.060294283896706,
    // 7e-10 off).
    close(
        replicas_t_two_sample(0.15, 0.1, 0.05, 0.8, Alternative::TwoSided),
        8.060294277971915,
        APPROX,
        "n t2",
    );
    // TTestPower().power(0.1 / 0.08, 6, 0.05) and alternative="larger"
    close(
        power_t_one_sample(0.1, 0.08, 6.0, 0.05, Alternative::TwoSided),
        0.6892731163662337,
        APPROX,
        "power t1",
    );
    close(
        power_t_one_sample(0.1, 0.08, 6.0, 0.05, Alternative::Greater),
        0.8347772297558529,
        APPROX,
        "power t1 1s",
    );
    // TTestPower().solve_power(0.1 / 0.08, None, 0.05, 0.8, alternative="larger") solved to
    // full precision as above (statsmodels' own root is 5.57937841665759, 1.7e-7 off).
    close(
        replicas_t_one_sample(0.1, 0.08, 0.05, 0.8, Alternative::Greater),
        5.579377466183524,
        APPROX,
        "n t1",
    );
}

const STRATA: [[[u64; 2]; 2]; 3] = [[[3, 7], [1, 9]], [[5, 5], [2, 8]], [[12, 18], [6, 24]]];

#[test]
fn stratified_exact_matches_convolution_of_scipy_hypergeometrics() {
    // Reference: numpy.convolve of scipy.stats.hypergeom.pmf over each stratum's support,
    // tails summed (two-sided: terms ≤ observed × (1 + 1e-7), as R's mantelhaen.test).
    close(
        stratified_exact(&STRATA, Alternative::Greater).unwrap(),
        0.013624359785735375,
        EXACT,
        "strat greater",
    );
    close(
        stratified_exact(&STRATA, Alternative::Less).unwrap(),
        0.9960846926568856,
        EXACT,
        "strat less",
    );
    close(
        stratified_exact(&STRATA, Alternative::TwoSided).unwrap(),
        0.027248719571470754,
        EXACT,
        "strat two-sided",
    );
    // One stratum is Fisher's test: scipy.stats.fisher_exact([[3, 7], [1, 9]], "greater").
    close(
        stratified_exact(&STRATA[..1], Alternative::Greater).unwrap(),
        0.2910216718266254,
        EXACT,
        "strat = fisher",
    );
    // Too large to convolve: declines.
    assert!(
        stratified_exact(
            &[[[50_000, 50_000], [50_000, 50_000]]; 20],
            Alternative::Greater
        )
        .is_none()
    );
}

#[test]
fn cmh_matches_statsmodels() {
    // StratifiedTable(tables).test_null_odds(correction=True / False): chi-square = z².
    let r = cmh_test(&STRATA, Alternative::TwoSided, true);
    close(
        r.statistic * r.statistic,
        4.7683865753541195,
        APPROX,
        "cmh stat",
    );
    close(r.p_value, 0.028986978776251116, APPROX, "cmh p");
    let r = cmh_test(&STRATA, Alternative::TwoSided, false);
    close(
        r.statistic * r.statistic,
        5.769747756178484,
        APPROX,
        "cmh stat no cc",
    );
    close(r.p_value, 0.016304374628474227, APPROX, "cmh p no cc");
    assert!(cmh_test(&STRATA, Alternative::Greater, true).p_value < 0.0145);
}

#[test]
fn risk_difference_and_odds_ratio_match_statsmodels() {
    // confint_proportions_2indep(30, 100, 18, 110, method="newcomb", compare="diff")
    let rd = risk_difference(30, 100, 18, 110, 0.95);
    close(rd.ci.0, 0.02230597228029131, APPROX, "newcombe lo");
    close(rd.ci.1, 0.24816144125221762, APPROX, "newcombe hi");
    // ... (0, 50, 0, 60): an interval, not a point, at 0% vs 0%.
    let rd = risk_difference(0, 50, 0, 60, 0.95);
    close(rd.ci.0, -0.060171852142089886, APPROX, "newcombe0 lo");
    close(rd.ci.1, 0.07134759913335874, APPROX, "newcombe0 hi");
    // Table2x2([[30, 70], [18, 92]]).oddsratio, .oddsratio_confint(0.05)
    let or = odds_ratio([[30, 70], [18, 92]], 0.95);
    close(or.estimate, 2.1904761904761907, EXACT, "or");
    close(or.ci.0, 1.1300148433491057, APPROX, "or lo");
    close(or.ci.1, 4.2461264728367265, APPROX, "or hi");
    // Haldane-Anscombe: Table2x2([[30.5, 70.5], [0.5, 92.5]]).oddsratio_confint(0.05)
    let or = odds_ratio([[30, 70], [0, 92]], 0.95);
    assert!(or.estimate.is_infinite());
    close(or.ci.0, 4.811009971588174, APPROX, "or0 lo");
    close(or.ci.1, 1331.4615962503765, APPROX, "or0 hi");
}

#[test]
fn tost_proportions_matches_statsmodels() {
    // tost_proportions_2indep(30, 100, 28, 110, -0.1, 0.1, method="wald", correction=False)
    let r = tost_two_proportions(30, 100, 28, 110, -0.1, 0.1);
    close(r.p_value, 0.18890312332634818, APPROX, "tost prop");
    close(r.p_low, 0.009340031797169145, APPROX, "tost prop low");
}

#[test]
fn quantiles_match_numpy_and_bootstrap_is_seeded() {
    // numpy.percentile([3, 1, 4, 1.5, 9, 2.6], [2.5, 97.5])
    let mut v = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6];
    v.sort_by(f64::total_cmp);
    close(bootstrap::quantile_sorted(&v, 0.025), 1.0625, EXACT, "q2.5");
    close(bootstrap::quantile_sorted(&v, 0.975), 8.375, EXACT, "q97.5");

    let data: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let a = percentile_bootstrap(&data, mean, 2000, 0.95, 7);
    let b = percentile_bootstrap(&data, mean, 2000, 0.95, 7);
    let c = percentile_bootstrap(&data, mean, 2000, 0.95, 8);
    assert_eq!(a, b);
    assert_ne!(a.ci, c.ci);
    // Close to the t interval of the mean (the bootstrap's large-sample limit).
    let t = one_sample_t(&data, 0.0, Alternative::TwoSided, 0.95);
    assert!(
        (a.ci.0 - t.ci.0).abs() < 0.01 && (a.ci.1 - t.ci.1).abs() < 0.01,
        "{a:?} vs {t:?}"
    );
}

fn cell(n: u64, mean: f64) -> CellSamples {
    CellSamples {
        n,
        sum: mean * n as f64,
        sum_sq: mean * n as f64,
        binary: true,
    }
}

#[test]
fn hierarchical_bootstrap_is_seeded_and_reflects_replica_spread() {
    // Two arms × 6 replicas × 4 probes; treatment replicas spread widely, control tightly.
    let group = |weight: f64, rates: &[f64]| ClusterGroup {
        weight,
        resample_samples: false,
        replicas: rates
            .iter()
            .map(|&r| {
                (0..4)
                    .map(|p| {
                        vec![Term {
                            coef: 1.0,
                            cell: cell(50, (r + 0.02 * p as f64).min(1.0)),
                        }]
                    })
                    .collect()
            })
            .collect(),
    };
    let groups = [
        group(1.0, &[0.2, 0.5, 0.3, 0.7, 0.4, 0.6]),
        group(-1.0, &[0.10, 0.12, 0.08, 0.11, 0.09, 0.10]),
    ];
    let a = hierarchical_bootstrap(&groups, 4, 4000, 0.95, 1).unwrap();
    assert_eq!(
        a,
        hierarchical_bootstrap(&groups, 4, 4000, 0.95, 1).unwrap()
    );
    close(a.estimate, 0.45 + 0.03 - 0.10 - 0.03, 1e-12, "estimate");
    assert!(a.ci.0 < a.estimate && a.estimate < a.ci.1);
    // The spread comes from the treatment replicas (SD 0.187, so SE ≈ 0.076): width ≈ 2 × 1.96 × SE.
    let width = a.ci.1 - a.ci.0;
    assert!((0.2..0.36).contains(&width), "width {width}");
    // A fixed single-replica arm, samples resampled too: 4 probes at 0.3 with 100 samples each.
    // A cell's rate has SD 0.0458; resampling 4 probes with replacement repeats some, so the
    // mean's SD is 0.0458 × √(7/16) = 0.0303 (E Σ count² = 7): width ≈ 2 × 1.96 × 0.0303.
    let fixed = ClusterGroup {
        weight: 1.0,
        resample_samples: true,
        replicas: vec![
            (0..4)
                .map(|_| {
                    vec![Term {
                        coef: 1.0,
                        cell: cell(100, 0.3),
                    }]
                })
                .collect(),
        ],
    };
    let b = hierarchical_bootstrap(&[fixed], 4, 4000, 0.95, 3).unwrap();
    let width = b.ci.1 - b.ci.0;
    assert!((0.105..0.135).contains(&width), "fixed width {width}");
}

#[test]
fn t_quantiles_match_scipy_for_small_and_large_df() {
    // scipy.stats.t.ppf(0.975, 3.554087855912891), t.ppf(0.975, 20000.5), t.ppf(0.05, 12345.0)
    close(
        dist::t_ppf(0.975, 3.554087855912891),
        2.9193721598241473,
        APPROX,
        "t ppf small df",
    );
    close(
        dist::t_ppf(0.975, 20000.5),
        1.960082602192517,
        1e-12,
        "t ppf large df",
    );
    close(
        dist::t_ppf(0.05, 12345.0),
        -1.6449770683606906,
        1e-12,
        "t ppf large df lower",
    );
}

#[test]
fn tost_paired_matches_statsmodels() {
    // statsmodels.stats.weightstats.ttost_paired(x, y, -0.1, 0.1)
    let x = [0.61, 0.42, 0.55, 0.71, 0.38, 0.49, 0.66, 0.52, 0.47, 0.58];
    let y = [0.66, 0.51, 0.52, 0.80, 0.45, 0.61, 0.70, 0.49, 0.66, 0.62];
    let r = tost_paired(&x, &y, -0.1, 0.1);
    close(r.p_value, 0.05541446642884589, APPROX, "tost paired");
    close(
        r.p_high,
        1.3687357579923467e-05,
        APPROX,
        "tost paired upper",
    );
}

/// `scipy.stats.t.sf(t, df)` (SciPy 1.17.1) at large df, as `(df, t, sf)`.
const T_TAILS: [(f64, f64, f64); 42] = [
    (1e3, 0.5, 0.30859254041693734),
    (1e3, 1.0, 0.15877620904233627),
    (1e3, 1.96, 0.025136592477874368),
    (1e3, 3.0, 0.0013833545221190963),
    (1e3, 5.0, 3.3836281823243174e-07),
    (1e3, 8.0, 1.7133307411957489e-15),
    (3e3, 0.5, 0.3085558745160099),
    (3e3, 1.0, 0.1586955790246523),
    (3e3, 1.96, 0.02504411583618996),
    (3e3, 3.0, 0.0013610018399764728),
    (3e3, 5.0, 3.0312635719088365e-07),
    (3e3, 8.0, 8.801832518055135e-16),
    (1e4, 0.5, 0.30854303966161684),
    (1e4, 1.0, 0.15866735216521458),
    (1e4, 1.96, 0.025011760115916513),
    (1e4, 3.0, 0.001353224094998833),
    (1e4, 5.0, 2.9151633068313295e-07),
    (1e4, 8.0, 6.910604364532651e-16),
    (3e4, 0.5, 0.30853937239010865),
    (3e4, 1.0, 0.1586592867432585),
    (3e4, 1.96, 0.025002516686008485),
    (3e4, 3.0, 0.0013510062356349665),
    (3e4, 5.0, 2.8826583432946554e-07),
    (3e4, 8.0, 6.443470672712741e-16),
    (1e5, 0.5, 0.30853808882720896),
    (1e5, 1.0, 0.1586564637820551),
    (1e5, 1.96, 0.02499928159715084),
    (1e5, 3.0, 0.0013502304420323617),
    (1e5, 5.0, 2.8713508393208397e-07),
    (1e5, 8.0, 6.286959938128173e-16),
    (3e5, 0.5, 0.3085377220932501),
    (3e5, 1.0, 0.15865565721566177),
    (3e5, 1.96, 0.02499835729668223),
    (3e5, 3.0, 0.0013500088302594384),
    (3e5, 5.0, 2.868126696196387e-07),
    (3e5, 8.0, 6.242889216918953e-16),
    (1e6, 0.5, 0.3085375937361857),
    (1e6, 1.0, 0.15865537491678916),
    (1e6, 1.96, 0.024998033792634926),
    (1e6, 3.0, 0.0013499312707109),
    (1e6, 5.0, 2.8669989354453723e-07),
    (1e6, 8.0, 6.227531716601252e-16),
];

#[test]
fn t_tails_at_large_df_match_scipy() {
    for (df, t, sf) in T_TAILS {
        close(dist::t_sf(t, df), sf, EXACT, &format!("t sf({t}, {df})"));
        close(
            dist::t_cdf(-t, df),
            sf,
            EXACT,
            &format!("t cdf(-{t}, {df})"),
        );
        // Through the tests that use them.
        let r = t_test_from_estimate(t, 1.0, df, 0.0, Alternative::Greater, 0.95);
        close(r.p_value, sf, EXACT, "t test p");
        let tost = tost_from_estimate(0.0, 1.0, df, -t, t);
        close(tost.p_value, sf, EXACT, "tost p");
        // The quantile inverts the tail (where 1 − sf keeps its digits).
        if sf > 1e-4 {
            close(dist::t_ppf(1.0 - sf, df), t, 1e-9, "t ppf");
        }
    }
}

#[test]
fn normal_tails_match_scipy() {
    // scipy.stats.norm.sf(z) (SciPy 1.17.1).
    for (z, sf) in [
        (0.1, 0.460172162722971),
        (1.0, 0.15865525393145707),
        (1.96, 0.024997895148220435),
        (3.0, 0.0013498980316300933),
        (5.0, 2.866515718791933e-07),
        (8.0, 6.22096057427174e-16),
        (12.0, 1.776482112077653e-33),
        (20.0, 2.7536241186061556e-89),
        (30.0, 4.906713927147908e-198),
    ] {
        close(dist::norm_sf(z), sf, EXACT, &format!("norm sf({z})"));
        close(dist::norm_cdf(-z), sf, EXACT, &format!("norm cdf(-{z})"));
    }
}
