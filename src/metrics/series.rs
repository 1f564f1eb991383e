//! Reading the counters back out of the rendered text, for tests and
//! reports that want a number rather than an exposition.

/// One counter sample: name, labels in order, value.
pub type Series = (String, Vec<(String, String)>, u64);

/// The `*_total` samples of a Prometheus text exposition.
pub(super) fn counters(text: &str) -> Vec<Series> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(sample)
        .filter(|(name, _, _)| name.ends_with("_total") && !name.starts_with("process_"))
        .collect()
}

fn sample(line: &str) -> Option<Series> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let rest = &line[name_end..];
    let (labels, value) = match rest.strip_prefix('{') {
        Some(inner) => {
            let (labels, after) = parse_labels(inner)?;
            (labels, after)
        }
        None => (Vec::new(), rest),
    };
    let value: f64 = value.split_whitespace().next()?.parse().ok()?;
    Some((name.to_string(), labels, value as u64))
}

/// `k="v",k2="v2"} rest` → the pairs and `rest`.
fn parse_labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut out = Vec::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return Some((out, rest));
        }
        s = s.strip_prefix(',').unwrap_or(s);
        let (key, rest) = s.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        out.push((key.to_string(), value));
        s = &rest[end + 1..];
    }
}
