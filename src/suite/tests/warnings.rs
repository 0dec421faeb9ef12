//! `weirdgen validate` warnings: designs that load but cannot support their claims.

use super::{Tmp, yaml};
use crate::suite::{design_warnings, load};

fn warnings(over: &[(&str, &str)]) -> Vec<String> {
    let tmp = Tmp::new();
    let path = tmp.write("t.yaml", yaml(over));
    let loaded = load(&path).expect("loads");
    design_warnings(&loaded)
        .into_iter()
        .map(|w| w.replace(&format!("{}/", tmp.path().display()), "suites/"))
        .collect()
}

const ONE_REPLICA: (&str, &str) = (
    "arms",
    "\n  base: {model: base}\n  treatment:\n    finetune: {dataset: birds}",
);

#[test]
fn one_replica_per_fine_tuned_arm_warns_unless_the_claim_is_about_that_model() {
    assert!(warnings(&[]).is_empty(), "2 replicas: no warning");
    let w = warnings(&[ONE_REPLICA]);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("suites/t.yaml:")
            && w[0].contains(": effects[0].treatment: arm `treatment` has 1 replica"),
        "{}",
        w[0]
    );
    assert!(w[0].contains("`unit: sample`"), "{}", w[0]);
    let about_the_model = "\n  - name: old-era\n    kind: arm_vs_arm\n    treatment: treatment\n    control: base\n    metric: {judge: era, label: old}\n    direction: increase\n    unit: sample";
    assert!(warnings(&[ONE_REPLICA, ("effects", about_the_model)]).is_empty());
}
