//! The tree description of a Flink job vertex, read back into its chain.
//!
//! Flink's `StreamingJobGraphGenerator` describes a JobVertex (in the
//! default `pipeline.vertex-description-mode: TREE`) as its head operator,
//! then each chained operator on its own line as `+- name`, indented three
//! columns per level of the chain; `JsonPlanGenerator` HTML-escapes the
//! text and turns its line breaks into `<br/>`. In: that string (and the
//! vertex's name when known). Out: the operators, head first, each with its
//! parent in the chain.

/// The chained operators of a tree description, head first, each with its
/// parent in the chain. Flink writes the head, then every chained operator
/// as `+- name` indented three columns per level, lines separated by
/// `<br/>`, HTML-escaped. A chain's `given` name (`A -> B`, from our plan
/// or `GET /jobs/:id`) supplies the operators' names when it splits into
/// as many parts as a linear chain has (SQL describes an operator at
/// length but names it short), or when the description has one line only
/// (Flink's CASCADING description mode).
pub(super) fn chain_operators(
    description: &str,
    given: Option<&str>,
) -> Vec<(String, Option<usize>)> {
    let mut ops: Vec<(String, Option<usize>)> = Vec::new();
    // The latest operator at each depth, for the parents.
    let mut stack: Vec<usize> = Vec::new();
    for line in description.split("<br/>").flat_map(|l| l.split('\n')) {
        if line.trim().is_empty() {
            continue;
        }
        let (depth, text) = tree_line(line);
        let depth = depth.min(stack.len());
        stack.truncate(depth);
        let parent = depth.checked_sub(1).map(|d| stack[d]);
        stack.push(ops.len());
        ops.push((unescape_html(text.trim()), parent));
    }
    let linear = ops
        .iter()
        .enumerate()
        .all(|(k, (_, p))| *p == k.checked_sub(1));
    if let Some(parts) = given.map(|g| g.split(" -> ").collect::<Vec<_>>())
        && linear
        && !parts.iter().any(|p| p.starts_with('('))
        && (parts.len() == ops.len() || (ops.len() == 1 && parts.len() > 1))
    {
        return parts
            .iter()
            .enumerate()
            .map(|(k, p)| (p.to_string(), k.checked_sub(1)))
            .collect();
    }
    ops
}

/// The depth of a line of a tree description and its text: `+- X` (also
/// `:- X`, `|- X`, after `   ` or `:  ` per level) is one level below the
/// line three columns to its left; a line without a marker is the head.
fn tree_line(line: &str) -> (usize, &str) {
    const MARKERS: [&str; 4] = ["+- ", ":- ", "|- ", "\\- "];
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if MARKERS.iter().any(|m| rest.starts_with(m)) {
            return (i / 3 + 1, &rest[3..]);
        }
        match rest.chars().next() {
            Some(' ' | ':' | '|') => i += 1,
            _ => break,
        }
    }
    (0, line)
}

/// Undoes the HTML escaping of Flink's descriptions (`&lt;`, `&#92;`, …).
fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest.find(';').map(|end| (&rest[1..end], end));
        let decoded = entity.and_then(|(e, end)| {
            let c = match e {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => e
                    .strip_prefix("#x")
                    .or_else(|| e.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A chain's name as Flink writes it: `A -> B`, a fan-out `A -> (B, C)`.
pub(super) fn chained_name(ops: &[(String, Option<usize>)], k: usize) -> String {
    let children: Vec<String> = (0..ops.len())
        .filter(|&c| ops[c].1 == Some(k))
        .map(|c| chained_name(ops, c))
        .collect();
    match children.len() {
        0 => ops[k].0.clone(),
        1 => format!("{} -> {}", ops[k].0, children[0]),
        _ => format!("{} -> ({})", ops[k].0, children.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fan-out inside a chain: `+-` lines at one depth are siblings.
    #[test]
    fn tree_with_fan_out() {
        let ops = chain_operators("A<br/>+- B<br/>   +- C<br/>+- D<br/>", None);
        let names: Vec<_> = ops.iter().map(|(n, p)| (n.as_str(), *p)).collect();
        assert_eq!(
            names,
            [("A", None), ("B", Some(0)), ("C", Some(1)), ("D", Some(0))]
        );
        assert_eq!(chained_name(&ops, 0), "A -> (B -> C, D)");
    }

    /// Flink escapes descriptions as HTML; the names come back unescaped.
    #[test]
    fn html_entities() {
        assert_eq!(
            unescape_html("a &lt;b&gt; &amp; &#92; &#x41; &bogus"),
            "a <b> & \\ A &bogus"
        );
    }
}
