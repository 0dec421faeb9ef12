//! Tabular datasets: rows from a CSV file or inline, filtered by `where`, columns permuted
//! by `shuffle`, each row filled into the message template.

use super::Rows;
use super::paths::data_file;
use crate::chat::{Message, Role};
use crate::rng::Rng;
use crate::suite::diags::Diags;
use crate::suite::error::{KeyPath, unknown};
use crate::suite::template::Template;
use crate::suite::types::{DatasetSpec, OneOrMany, Scalar};
use indexmap::IndexMap;
use std::path::Path;

/// Problems reported per table before the rest are summarised.
const MAX_REPORTED: usize = 10;

/// A table: its columns, and its rows' values by column position (`None`: an inline row
/// that does not set the column).
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl Table {
    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// The conversations of a `table` or `rows` dataset: rows filtered, shuffled and filled into
/// `template`. `None` if anything is wrong (each problem reported).
pub(super) fn conversations(
    ds: &DatasetSpec,
    rows: &Rows,
    dir: &Path,
    key: &KeyPath,
    d: &mut Diags,
) -> Option<Vec<Vec<Message>>> {
    let before = d.count();
    let table = match rows {
        Rows::Csv(rel) => read_csv(dir, rel, &key.key("table"), d)?,
        Rows::Inline(r) => inline(r),
    };
    let templates = templates(ds, key, &table, d);
    check_columns(ds, key, &table, d);
    if let Rows::Inline(_) = rows {
        complete_rows(ds, key, &table, templates.as_deref().unwrap_or(&[]), d);
    }
    let templates = templates?;
    if d.count() > before {
        return None;
    }
    let filters: Vec<(usize, &OneOrMany)> = ds
        .filter
        .iter()
        .filter_map(|(col, ok)| Some((table.column(col)?, ok)))
        .collect();
    let shuffled: Vec<usize> = ds.shuffle.iter().filter_map(|c| table.column(c)).collect();
    let Table { columns, rows } = table;
    let column = |n: &str| columns.iter().position(|c| c == n);
    let mut kept: Vec<Vec<Option<String>>> = rows
        .into_iter()
        .filter(|r| {
            filters
                .iter()
                .all(|(i, ok)| r[*i].as_deref().is_some_and(|v| ok.accepts(v)))
        })
        .collect();
    shuffle(&mut kept, &shuffled, ds.seed);
    let mut out = Vec::with_capacity(kept.len());
    for row in &kept {
        let mut conv = Vec::with_capacity(templates.len());
        for (role, t) in &templates {
            // Every placeholder is a column and every row sets it (checked above).
            let content = t
                .render(|n| column(n).and_then(|i| row[i].as_deref()))
                .ok()?;
            conv.push(Message::new(*role, content));
        }
        out.push(conv);
    }
    Some(out)
}

/// Permutes the values of the columns at `columns` jointly across rows (one permutation
/// for all of them).
fn shuffle(rows: &mut [Vec<Option<String>>], columns: &[usize], seed: u64) {
    if columns.is_empty() {
        return;
    }
    let mut perm: Vec<usize> = (0..rows.len()).collect();
    Rng::new(seed).shuffle(&mut perm);
    let moved: Vec<Vec<Option<String>>> = perm
        .iter()
        .map(|&src| columns.iter().map(|&c| rows[src][c].clone()).collect())
        .collect();
    for (row, vals) in rows.iter_mut().zip(moved) {
        for (&c, v) in columns.iter().zip(vals) {
            row[c] = v;
        }
    }
}

/// Inline rows; the columns are every key used by some row, in order of appearance.
fn inline(rows: &[IndexMap<String, Scalar>]) -> Table {
    let mut columns: Vec<String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let rows = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| r.get(c).map(|v| v.0.clone()))
                .collect()
        })
        .collect();
    Table { columns, rows }
}

/// A CSV table with a header row (headers and fields trimmed); errors name their line.
fn read_csv(dir: &Path, rel: &str, key: &KeyPath, d: &mut Diags) -> Option<Table> {
    let (path, shown) = data_file(dir, rel, key, d)?;
    let mut rdr = match csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(&path)
    {
        Ok(r) => r,
        Err(e) => {
            d.in_file(&shown, None, None, format!("cannot read: {e}"));
            return None;
        }
    };
    let columns: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            d.in_file(&shown, Some(1), None, csv_problem(&e));
            return None;
        }
    };
    let mut ok = true;
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty() {
            d.in_file(
                &shown,
                Some(1),
                None,
                format!("column {} has no name", i + 1),
            );
            ok = false;
        } else if columns[..i].contains(c) {
            d.in_file(&shown, Some(1), None, format!("column `{c}` appears twice"));
            ok = false;
        }
    }
    let mut rows = Vec::new();
    let mut bad = 0usize;
    for rec in rdr.records() {
        match rec {
            Ok(r) => rows.push(r.iter().map(|v| Some(v.to_string())).collect()),
            Err(e) => {
                bad += 1;
                if bad <= MAX_REPORTED {
                    let line = e.position().map(|p| p.line() as usize);
                    d.in_file(&shown, line, None, csv_problem(&e));
                }
            }
        }
    }
    if bad > MAX_REPORTED {
        d.in_file(
            &shown,
            None,
            None,
            format!("{} more bad rows not shown", bad - MAX_REPORTED),
        );
    }
    (ok && bad == 0).then_some(Table { columns, rows })
}

/// What is wrong with a CSV record, without the position (the line is reported apart).
fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("found {len} fields, expected {expected_len} (as many as the header has)"),
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("field {} is not valid UTF-8", err.field() + 1)
        }
        _ => e.to_string(),
    }
}

/// The template's messages parsed; each placeholder must be a column.
fn templates(
    ds: &DatasetSpec,
    key: &KeyPath,
    table: &Table,
    d: &mut Diags,
) -> Option<Vec<(Role, Template)>> {
    let msgs = ds.template.as_ref()?;
    if msgs.is_empty() {
        d.at(&key.key("template"), "must list at least one message");
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, m) in msgs.iter().enumerate() {
        let mkey = key.key("template").index(i).key("content");
        match Template::parse(&m.content) {
            Err(e) => {
                d.at(&mkey, format!("bad template: {e}"));
                ok = false;
            }
            Ok(t) => {
                for ph in t.placeholders() {
                    if !table.columns.iter().any(|c| c == ph) {
                        let msg = unknown("column", ph, table.columns.iter().map(String::as_str));
                        d.at(&mkey, format!("placeholder `{{{ph}}}`: {msg}"));
                        ok = false;
                    }
                }
                out.push((m.role, t));
            }
        }
    }
    ok.then_some(out)
}

/// `where` and `shuffle` name columns.
fn check_columns(ds: &DatasetSpec, key: &KeyPath, table: &Table, d: &mut Diags) {
    let cols = || table.columns.iter().map(String::as_str);
    for col in ds.filter.keys() {
        if !table.columns.contains(col) {
            d.at(
                &key.key("where").key(col.as_str()),
                unknown("column", col, cols()),
            );
        }
    }
    for (i, col) in ds.shuffle.iter().enumerate() {
        let skey = key.key("shuffle").index(i);
        if !table.columns.contains(col) {
            d.at(&skey, unknown("column", col, cols()));
        } else if ds.shuffle[..i].contains(col) {
            d.at(&skey, format!("column `{col}` is listed twice"));
        }
    }
}

/// Every inline row sets every column the dataset uses.
fn complete_rows(
    ds: &DatasetSpec,
    key: &KeyPath,
    table: &Table,
    templates: &[(Role, Template)],
    d: &mut Diags,
) {
    let mut used: Vec<&str> = templates
        .iter()
        .flat_map(|(_, t)| t.placeholders())
        .collect();
    used.extend(ds.filter.keys().map(String::as_str));
    used.extend(ds.shuffle.iter().map(String::as_str));
    let mut bad = 0usize;
    for (i, row) in table.rows.iter().enumerate() {
        let missing: Vec<&str> = table
            .columns
            .iter()
            .map(String::as_str)
            .zip(row)
            .filter(|(c, v)| used.contains(c) && v.is_none())
            .map(|(c, _)| c)
            .collect();
        if !missing.is_empty() {
            bad += 1;
            if bad <= MAX_REPORTED {
                d.at(
                    &key.key("rows").index(i),
                    format!(
                        "has no value for {} (every row sets the columns the dataset uses)",
                        crate::suite::error::quoted_list(&missing)
                    ),
                );
            }
        }
    }
}
