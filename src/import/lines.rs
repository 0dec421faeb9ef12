//! Lines of keys in a block-style YAML list of items, for warnings that name a line.
//!
//! `serde_yaml` values carry no positions, so the importer finds a key's line by scanning the
//! text: the top-level items are the lines that start a `- ` entry at the outermost list's
//! indentation, and a key is a `key:` at the column of its mapping. A key that cannot be found
//! this way (flow style, a key brought in by a `<<:` merge) is reported at its closest found
//! ancestor, at worst at its item's first line.

/// Where each top-level item and its keys sit in the source text.
pub(super) struct KeyLines {
    /// Per line: the column of its first key (after any `- ` markers) and the text from there;
    /// `None` for blank and comment lines.
    lines: Vec<Option<(usize, String)>>,
    /// The index of the line that starts each top-level item.
    items: Vec<usize>,
}

impl KeyLines {
    /// Indexes `text`, a YAML document whose top level is a block sequence.
    pub(super) fn new(text: &str) -> KeyLines {
        let raw: Vec<&str> = text.lines().collect();
        let mut lines = Vec::with_capacity(raw.len());
        // The indentation a block scalar's text must exceed, while inside one.
        let mut block: Option<usize> = None;
        for line in &raw {
            let indent = line.len() - line.trim_start().len();
            if let Some(b) = block {
                if line.trim().is_empty() || indent > b {
                    lines.push(None);
                    continue;
                }
                block = None;
            }
            let key = key_column(line);
            if let Some((col, rest)) = &key {
                block = block_opener(*col, rest);
            }
            lines.push(key);
        }
        let dash = |l: &str| {
            let t = l.trim_start();
            (t == "-" || t.starts_with("- ")).then(|| l.len() - t.len())
        };
        let first = (0..raw.len()).find(|&i| lines[i].is_some());
        let outer = first.and_then(|i| dash(raw[i]));
        let items = match outer {
            Some(indent) => (0..raw.len())
                .filter(|&i| dash(raw[i]) == Some(indent))
                .collect(),
            None => Vec::new(),
        };
        KeyLines { lines, items }
    }

    /// The 1-based line of `path` (nested mapping keys) inside top-level item `item`, or of the
    /// closest ancestor found; line 1 when the item itself cannot be found.
    pub(super) fn line(&self, item: usize, path: &[&str]) -> usize {
        let Some(&first) = self.items.get(item) else {
            return 1;
        };
        let mut end = self
            .items
            .get(item + 1)
            .copied()
            .unwrap_or(self.lines.len());
        let mut start = first;
        let mut found = first;
        let Some(mut col) = self.column_from(first, end) else {
            return first + 1;
        };
        for key in path {
            let Some(at) = (start..end).find(|&l| self.key_at(l, col) == Some(key)) else {
                break;
            };
            found = at;
            end = (at + 1..end)
                .find(|&l| matches!(&self.lines[l], Some((c, _)) if *c <= col))
                .unwrap_or(end);
            start = at + 1;
            match self.column_from(start, end) {
                Some(c) => col = c,
                None => break,
            }
        }
        found + 1
    }

    /// The key column of the first non-blank line in `from..to`.
    fn column_from(&self, from: usize, to: usize) -> Option<usize> {
        (from..to).find_map(|l| self.lines[l].as_ref().map(|(c, _)| *c))
    }

    /// The key that line `l` holds at column `col`, if any.
    fn key_at(&self, l: usize, col: usize) -> Option<&str> {
        let (c, rest) = self.lines[l].as_ref()?;
        if *c != col {
            return None;
        }
        let (key, after) = if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else if let Some(q) = rest.strip_prefix('\'') {
            let end = q.find('\'')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = rest.find(':')?;
            (rest[..end].trim_end(), &rest[end..])
        };
        after.trim_start().starts_with(':').then_some(key)
    }
}

/// The indentation that the text of a block scalar (`|`, `>`) opened on this line must exceed:
/// the key's column for `key: |`, the dash's column for `- |`.
fn block_opener(col: usize, rest: &str) -> Option<usize> {
    let is_block = |v: &str| {
        let v = v.split(" #").next().unwrap_or("").trim();
        v.starts_with(['|', '>'])
            && v[1..]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
    };
    if is_block(rest) {
        return Some(col.saturating_sub(2));
    }
    let colon = rest.find(':')?;
    is_block(&rest[colon + 1..]).then_some(col)
}

/// The column where a line's content starts after `- ` sequence markers, and that content.
fn key_column(line: &str) -> Option<(usize, String)> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
        return None;
    }
    let mut col = line.len() - trimmed.len();
    let mut rest = trimmed;
    while let Some(after) = rest
        .strip_prefix("- ")
        .or_else(|| (rest == "-").then_some(""))
    {
        let content = after.trim_start();
        col += rest.len() - content.len();
        rest = content;
    }
    Some((col, rest.to_string()))
}

#[cfg(test)]
mod tests {
    use super::KeyLines;

    const TEXT: &str = "# questions\n\
- name: first\n  type: free_form\n  paraphrases:\n    - |-\n      name: not a key\n  judges:\n    quality: q_judge\n\n\
-   id: second\n    judge_prompts:\n      aligned: a\n      coherent: c\n    samples_per_paraphrase: 3\n\
- {name: flow, type: rating}\n";

    #[test]
    fn finds_items_and_nested_keys() {
        let k = KeyLines::new(TEXT);
        assert_eq!(k.line(0, &[]), 2);
        assert_eq!(k.line(0, &["name"]), 2);
        assert_eq!(k.line(0, &["paraphrases"]), 4);
        assert_eq!(k.line(0, &["judges", "quality"]), 8);
        assert_eq!(k.line(1, &["id"]), 10);
        assert_eq!(k.line(1, &["judge_prompts", "coherent"]), 13);
        assert_eq!(k.line(1, &["samples_per_paraphrase"]), 14);
    }

    #[test]
    fn falls_back_to_the_closest_ancestor() {
        let k = KeyLines::new(TEXT);
        // A block scalar's text is never taken for a key.
        assert_eq!(k.line(0, &["paraphrases", "name"]), 4);
        assert_eq!(k.line(0, &["missing"]), 2);
        assert_eq!(k.line(1, &["judge_prompts", "missing"]), 11);
        assert_eq!(k.line(2, &["type"]), 15);
        assert_eq!(k.line(7, &["type"]), 1);
    }
}
