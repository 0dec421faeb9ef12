//! Reducing an observation table to per-(arm, replica, cell) totals, and looking them up.

use std::collections::BTreeMap;

use super::types::{Aggregate, CellTotals, ObservationTable, Scale};

impl ObservationTable {
    /// Sufficient statistics per (arm, replica, cell): non-missing count, sum and sum of
    /// squares; missing values are counted, never used. Sorted by (arm, replica, cell).
    pub fn aggregate(&self) -> Aggregate {
        let mut totals: BTreeMap<(u32, u32, u32), CellTotals> = BTreeMap::new();
        for row in &self.rows {
            let t = totals
                .entry((row.arm, row.replica, row.cell))
                .or_insert(CellTotals {
                    arm: row.arm,
                    replica: row.replica,
                    cell: row.cell,
                    n: 0,
                    sum: 0.0,
                    sum_sq: 0.0,
                    missing: 0,
                });
            match row.value {
                Some(v) => {
                    t.n += 1;
                    t.sum += v;
                    t.sum_sq += v * v;
                }
                None => t.missing += 1,
            }
        }
        Aggregate {
            scale: self.scale,
            arms: self.arms.clone(),
            cells: self.cells.clone(),
            totals: totals.into_values().collect(),
        }
    }
}

impl Aggregate {
    /// The index of the arm called `name`.
    pub fn arm_index(&self, name: &str) -> Option<u32> {
        self.arms
            .iter()
            .position(|a| a.name == name)
            .map(|i| i as u32)
    }

    /// The totals of (arm, replica, cell), if any observation (missing or not) was recorded.
    pub fn totals_of(&self, arm: u32, replica: u32, cell: u32) -> Option<&CellTotals> {
        self.totals
            .binary_search_by_key(&(arm, replica, cell), |t| (t.arm, t.replica, t.cell))
            .ok()
            .map(|i| &self.totals[i])
    }

    /// Whether values are 0/1.
    pub fn is_binary(&self) -> bool {
        matches!(self.scale, Scale::Binary)
    }
}
