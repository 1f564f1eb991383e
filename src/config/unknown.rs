//! Unknown keys: every one in the file, with a suggestion, removed from the
//! tree so that the typed pass that follows judges only known keys.

use super::document::Seg;
use super::shape::Shape;
use toml::de::{DeTable, DeValue};

/// An unknown key found at `path`.
pub struct Unknown {
    pub path: Vec<Seg>,
    /// The key's span, taken before the key is removed.
    pub span: std::ops::Range<usize>,
    pub message: String,
}

/// Walk `table` against `shape`, removing and reporting unknown keys.
pub fn strip_unknown(root: &Shape, table: &mut DeTable<'_>) -> Vec<Unknown> {
    let mut found = Vec::new();
    let mut path = Vec::new();
    walk_table(root, root, table, &mut path, &mut found);
    found
}

fn walk_table(
    root: &Shape,
    shape: &Shape,
    table: &mut DeTable<'_>,
    path: &mut Vec<Seg>,
    found: &mut Vec<Unknown>,
) {
    let Shape::Struct(fields) = shape else {
        return;
    };
    let names: Vec<String> = table.keys().map(|k| k.get_ref().to_string()).collect();
    for name in names {
        match fields.iter().find(|(k, _)| *k == name) {
            Some((_, child)) => {
                if let Some(value) = table.get_mut(name.as_str()) {
                    path.push(Seg::Key(name.clone()));
                    walk_value(root, child, value.get_mut(), path, found);
                    path.pop();
                }
            }
            None => {
                let mut full = path.clone();
                full.push(Seg::Key(name.clone()));
                if let Some((key, _)) = table.remove_entry(name.as_str()) {
                    found.push(Unknown {
                        message: unknown_message(root, fields, &name),
                        path: full,
                        span: key.span(),
                    });
                }
            }
        }
    }
}

fn walk_value(
    root: &Shape,
    shape: &Shape,
    value: &mut DeValue<'_>,
    path: &mut Vec<Seg>,
    found: &mut Vec<Unknown>,
) {
    match (shape, value) {
        (Shape::Struct(_), DeValue::Table(t)) => walk_table(root, shape, t, path, found),
        (Shape::Map(inner), DeValue::Table(t)) => {
            let names: Vec<String> = t.keys().map(|k| k.get_ref().to_string()).collect();
            for name in names {
                if let Some(v) = t.get_mut(name.as_str()) {
                    path.push(Seg::Key(name));
                    walk_value(root, inner, v.get_mut(), path, found);
                    path.pop();
                }
            }
        }
        (Shape::Seq(inner), DeValue::Array(a)) => {
            for (i, item) in a.iter_mut().enumerate() {
                path.push(Seg::Index(i));
                walk_value(root, inner, item.get_mut(), path, found);
                path.pop();
            }
        }
        // A type mismatch (a table where a string belongs, ...) is left to the typed pass.
        _ => {}
    }
}

/// "unknown key; did you mean `port`?" — a close key of the same table first,
/// else the tables where a key of that exact name does belong.
fn unknown_message(root: &Shape, fields: &[(&'static str, Shape)], name: &str) -> String {
    if let Some(close) = closest(name, fields.iter().map(|(k, _)| *k)) {
        return format!("unknown key; did you mean `{close}`?");
    }
    let homes: Vec<String> = root
        .tables()
        .into_iter()
        .filter(|(_, keys)| keys.contains(&name))
        .map(|(header, _)| header)
        .collect();
    if !homes.is_empty() {
        return format!(
            "unknown key here; `{name}` belongs in {}",
            homes.join(" or ")
        );
    }
    let known: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    format!("unknown key (known keys: {})", known.join(", "))
}

/// The candidate closest to `name`, if close enough to be a likely typo:
/// an edit distance of at most 2 (1 for short keys), or a high Jaro–Winkler
/// similarity for longer transpositions and truncations.
pub fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let folded = candidate.to_lowercase();
        let distance = strsim::damerau_levenshtein(&lower, &folded);
        let limit = if candidate.chars().count() <= 4 { 1 } else { 2 };
        let similarity = strsim::jaro_winkler(&lower, &folded);
        if distance <= limit || similarity >= 0.9 {
            let score = similarity - distance as f64;
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, candidate));
            }
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggestions_are_close_only() {
        let keys = ["port", "host", "auth_token", "rate_limit", "read_timeout"];
        assert_eq!(closest("prot", keys.iter().copied()), Some("port"));
        assert_eq!(
            closest("auth-token", keys.iter().copied()),
            Some("auth_token")
        );
        assert_eq!(
            closest("ratelimit", keys.iter().copied()),
            Some("rate_limit")
        );
        assert_eq!(closest("Host", keys.iter().copied()), Some("host"));
        assert_eq!(closest("banana", keys.iter().copied()), None);
    }
}
