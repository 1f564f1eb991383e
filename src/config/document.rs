//! The parsed file with byte spans: maps a path to its line, an error's span
//! back to a path, and removes a bad entry so checking can continue.

use super::diagnostic::Diagnostic;
use super::shape::Shape;
use std::fmt::Write as _;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// One step of a path: a key of a table or an index into an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// What [`Document::remove`] took out.
pub enum Removed {
    /// The key at this path.
    Key(Vec<Seg>),
    /// A whole element of an array of tables.
    Element,
    /// Nothing could be removed: the checking loop must stop.
    Nothing,
}

/// The source text and its tree.
pub struct Document<'a> {
    line_starts: Vec<usize>,
    /// Array elements removed so far (array path, index at the time), so
    /// that diagnostics still number `[[cron.jobs]]` as the file does.
    removed_elements: Vec<(Vec<Seg>, usize)>,
    text: &'a str,
    pub root: Spanned<DeTable<'a>>,
}

impl<'a> Document<'a> {
    pub fn new(text: &'a str, root: Spanned<DeTable<'a>>) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            line_starts,
            removed_elements: Vec::new(),
            text,
            root,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }

    /// The whole line holding byte `offset`.
    pub fn line_text(&self, offset: usize) -> &'a str {
        let (line, _) = self.line_col(offset);
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |e| e - 1);
        self.text.get(start..end).unwrap_or("")
    }

    /// The path of the innermost key, array element or table whose span
    /// contains `span` (an error's span from serde). Every node is searched,
    /// not only those inside their parent's span, because a table opened by
    /// `[a.b]` gives its implicit parent `a` a span that need not cover `b`.
    pub fn path_of_span(&self, span: &Range<usize>) -> Vec<Seg> {
        let mut best: Option<(usize, Vec<Seg>)> = None;
        let mut path = Vec::new();
        search_table(self.root.get_ref(), span, &mut path, &mut best);
        best.map(|(_, p)| p).unwrap_or_default()
    }

    /// The span to point at for `path`: the key itself when present,
    /// otherwise the deepest ancestor that is.
    pub fn span_of_path(&self, path: &[Seg]) -> Option<Range<usize>> {
        let mut found = None;
        let mut table = Some(self.root.get_ref());
        let mut array: Option<&DeArray<'_>> = None;
        for seg in path {
            let value = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => match t.get_key_value(k.as_str()) {
                    Some((key, value)) => {
                        found = Some(key.span());
                        value
                    }
                    None => break,
                },
                (Seg::Index(i), _, Some(a)) => match a.get(*i) {
                    Some(value) => {
                        found = Some(value.span());
                        value
                    }
                    None => break,
                },
                _ => break,
            };
            table = value.get_ref().as_table();
            array = value.get_ref().as_array();
        }
        found
    }

    /// Is the value at `path` (present in the file) a table?
    fn is_table_in_file(&self, path: &[Seg]) -> bool {
        let mut value: Option<&DeValue<'_>> = None;
        let mut table = Some(self.root.get_ref());
        for seg in path {
            let next = match (seg, table, value) {
                (Seg::Key(k), Some(t), _) => t.get(k.as_str()),
                (Seg::Index(i), _, Some(v)) => v.as_array().and_then(|a| a.get(*i)),
                _ => None,
            };
            let Some(next) = next else { return false };
            value = Some(next.get_ref());
            table = next.get_ref().as_table();
        }
        value.is_none_or(DeValue::is_table)
    }

    /// A diagnostic for `path`: the table it lives in, the key within it, and
    /// the line of the key (or of the nearest thing present in the file).
    pub fn diagnostic(&self, shape: &Shape, path: &[Seg], message: String) -> Diagnostic {
        self.diagnostic_at(shape, path, message, self.span_of_path(path))
    }

    /// [`Document::diagnostic`] pointing at `span` (for a key no longer in the tree).
    pub fn diagnostic_at(
        &self,
        shape: &Shape,
        path: &[Seg],
        message: String,
        span: Option<Range<usize>>,
    ) -> Diagnostic {
        // The longest prefix that is a table, by the schema or by the file.
        let mut split = 0;
        let mut current = Some(shape);
        for (i, seg) in path.iter().enumerate() {
            current = match (seg, current) {
                (Seg::Key(k), Some(s @ Shape::Struct(_))) => s.field(k),
                (Seg::Key(_), Some(Shape::Map(inner))) => Some(&**inner),
                (Seg::Index(_), Some(Shape::Seq(inner))) => Some(&**inner),
                _ => None,
            };
            let is_table = match current {
                Some(Shape::Struct(_) | Shape::Map(_)) => true,
                Some(Shape::Any) | None => self.is_table_in_file(&path[..=i]),
                _ => false,
            };
            // `jobs` in `cron.jobs[1]` is an array, its element the table.
            let array_of_tables = matches!(current, Some(Shape::Seq(_)))
                && matches!(path.get(i + 1), Some(Seg::Index(_)));
            if array_of_tables {
                continue;
            }
            if !is_table {
                break;
            }
            split = i + 1;
        }
        let entry = match path[..split].last() {
            Some(Seg::Index(_)) => self.entry_name(&path[..split]),
            _ => None,
        };
        let display = self.original_indices(path);
        let (table_path, key_path) = display.split_at(split);
        let (line, column) = match span {
            Some(span) => {
                let (l, c) = self.line_col(span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Diagnostic {
            line,
            column,
            key: (!key_path.is_empty()).then(|| render_key(key_path)),
            table: Some(render_table(table_path)),
            entry,
            message,
        }
    }

    /// The `name` of the `[[...]]` element at `path` (a cron job's), so a
    /// diagnostic can say which job it is about rather than only its number.
    fn entry_name(&self, path: &[Seg]) -> Option<String> {
        let mut value: Option<&DeValue<'_>> = None;
        let mut table = Some(self.root.get_ref());
        for seg in path {
            let next = match (seg, table, value) {
                (Seg::Key(k), Some(t), _) => t.get(k.as_str()),
                (Seg::Index(i), _, Some(v)) => v.as_array().and_then(|a| a.get(*i)),
                _ => None,
            }?;
            value = Some(next.get_ref());
            table = next.get_ref().as_table();
        }
        match table?.get("name")?.get_ref() {
            DeValue::String(name) if !name.trim().is_empty() => Some(name.to_string()),
            _ => None,
        }
    }

    /// `path` with array indices as they are in the file, undoing removals.
    fn original_indices(&self, path: &[Seg]) -> Vec<Seg> {
        let mut out = path.to_vec();
        for (array, removed) in self.removed_elements.iter().rev() {
            let n = array.len();
            if out.len() > n
                && out[..n] == array[..]
                && let Seg::Index(i) = &mut out[n]
                && *i >= *removed
            {
                *i += 1;
            }
        }
        out
    }

    /// Remove the entry at `path` so the next deserialization pass gets past
    /// it: the whole element when it is a table in an array of tables
    /// (a `[[cron.jobs]]` missing a required key), else the whole key.
    pub fn remove(&mut self, path: &[Seg]) -> Removed {
        // Cut the path after its last key, unless it ends in an array-of-tables element.
        let ends_in_table_element = matches!(path.last(), Some(Seg::Index(_)))
            && self.is_table_in_file(path)
            && !path.is_empty();
        let cut = if ends_in_table_element {
            path.len()
        } else {
            match path.iter().rposition(|s| matches!(s, Seg::Key(_))) {
                Some(i) => i + 1,
                None => return Removed::Nothing,
            }
        };
        let Some((last, parent)) = path[..cut].split_last() else {
            return Removed::Nothing;
        };
        if !remove_in(self.root.get_mut(), parent, last) {
            return Removed::Nothing;
        }
        match last {
            Seg::Index(i) => {
                self.removed_elements.push((parent.to_vec(), *i));
                Removed::Element
            }
            Seg::Key(_) => Removed::Key(path[..cut].to_vec()),
        }
    }
}

fn remove_in(table: &mut DeTable<'_>, parent: &[Seg], last: &Seg) -> bool {
    match parent.split_first() {
        None => match last {
            Seg::Key(k) => table.remove(k.as_str()).is_some(),
            Seg::Index(_) => false,
        },
        Some((Seg::Key(k), rest)) => {
            let Some(value) = table.get_mut(k.as_str()) else {
                return false;
            };
            remove_in_value(value.get_mut(), rest, last)
        }
        Some((Seg::Index(_), _)) => false,
    }
}

fn remove_in_value(value: &mut DeValue<'_>, parent: &[Seg], last: &Seg) -> bool {
    match value {
        DeValue::Table(t) => remove_in(t, parent, last),
        DeValue::Array(a) => match (parent.split_first(), last) {
            (None, Seg::Index(i)) => {
                if *i >= a.len() {
                    return false;
                }
                let items = std::mem::replace(a, DeArray::new());
                *a = items
                    .into_iter()
                    .enumerate()
                    .filter(|(j, _)| j != i)
                    .map(|(_, v)| v)
                    .collect();
                true
            }
            (Some((Seg::Index(i), rest)), _) => match a.get_mut(*i) {
                Some(v) => remove_in_value(v.get_mut(), rest, last),
                None => false,
            },
            _ => false,
        },
        _ => false,
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

fn consider(
    span: Range<usize>,
    target: &Range<usize>,
    path: &[Seg],
    best: &mut Option<(usize, Vec<Seg>)>,
) {
    if !contains(&span, target) {
        return;
    }
    let len = span.end - span.start;
    let better = match best {
        None => true,
        Some((best_len, best_path)) => {
            len < *best_len || (len == *best_len && path.len() > best_path.len())
        }
    };
    if better {
        *best = Some((len, path.to_vec()));
    }
}

fn search_table(
    table: &DeTable<'_>,
    target: &Range<usize>,
    path: &mut Vec<Seg>,
    best: &mut Option<(usize, Vec<Seg>)>,
) {
    for (k, v) in table.iter() {
        path.push(Seg::Key(k.get_ref().to_string()));
        consider(k.span(), target, path, best);
        search_value(v, target, path, best);
        path.pop();
    }
}

fn search_value(
    value: &Spanned<DeValue<'_>>,
    target: &Range<usize>,
    path: &mut Vec<Seg>,
    best: &mut Option<(usize, Vec<Seg>)>,
) {
    consider(value.span(), target, path, best);
    match value.get_ref() {
        DeValue::Table(t) => search_table(t, target, path, best),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                search_value(item, target, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

/// `[gateway]`, `[[cron.jobs]] #2`, `[providers.openai]`, `(top level)`.
pub fn render_table(path: &[Seg]) -> String {
    if path.is_empty() {
        return "(top level)".into();
    }
    let mut dotted = String::new();
    let mut element = None;
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Seg::Key(k) => {
                if !dotted.is_empty() {
                    dotted.push('.');
                }
                dotted.push_str(&render_key_part(k));
            }
            Seg::Index(n) if i + 1 == path.len() => element = Some(*n),
            Seg::Index(n) => {
                let _ = write!(dotted, "[{n}]");
            }
        }
    }
    match element {
        Some(n) => format!("[[{dotted}]] #{}", n + 1),
        None => format!("[{dotted}]"),
    }
}

/// `port`, `allowed_users[1]`, `"channel:telegram".restart`.
pub fn render_key(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&render_key_part(k));
            }
            Seg::Index(n) => {
                let _ = write!(out, "[{n}]");
            }
        }
    }
    out
}

/// A key as TOML would need it written: bare when possible, else quoted.
fn render_key_part(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}
