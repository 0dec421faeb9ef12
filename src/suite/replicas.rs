//! The replicas of an arm: how many, and the fine-tuning seed of each.

use super::types::ArmSpec;

impl ArmSpec {
    /// The number of replicas: `replicas` (or the number of `seeds`, else 1) for a
    /// fine-tune, one per model for `models`, 1 for a single `model`.
    pub fn replica_count(&self) -> u32 {
        match (&self.finetune, &self.models) {
            (Some(_), _) => self
                .replicas
                .or(self.seeds.as_ref().map(|s| s.len() as u32))
                .unwrap_or(1),
            (None, Some(ms)) => ms.len() as u32,
            (None, None) => 1,
        }
    }

    /// The fine-tuning seed of each replica: `seeds`, else 1, 2, ..., replicas. Empty for
    /// an arm that does not fine-tune.
    pub fn finetune_seeds(&self) -> Vec<u64> {
        if self.finetune.is_none() {
            return Vec::new();
        }
        match &self.seeds {
            Some(s) => s.clone(),
            None => (1..=u64::from(self.replica_count())).collect(),
        }
    }
}
