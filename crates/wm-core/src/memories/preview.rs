//! Search previews: a short, single-line excerpt of the content around the first match.

/// Preview length in characters (without the ellipses).
pub const PREVIEW_CHARS: usize = 200;
/// Characters shown before the match when the match is not near the start.
const LEAD_CHARS: usize = 60;

/// About [`PREVIEW_CHARS`] characters of `content` around the first case-insensitive
/// occurrence of any word of `query` (the start of the content when nothing matches or there
/// is no query), whitespace collapsed, with `…` where text was cut.
pub fn preview(content: &str, query: Option<&str>) -> String {
    let mut flat: Vec<char> = Vec::with_capacity(content.len());
    for word in content.split_whitespace() {
        if !flat.is_empty() {
            flat.push(' ');
        }
        flat.extend(word.chars());
    }
    let terms = query.map(terms).unwrap_or_default();
    let hit = if terms.is_empty() {
        None
    } else {
        let lower: Vec<char> = flat.iter().map(|c| lower_char(*c)).collect();
        terms.iter().filter_map(|t| find(&lower, t)).min()
    };
    let start = match hit {
        Some(i) if i > LEAD_CHARS => {
            // Start at a word boundary shortly before the match.
            let from = i - LEAD_CHARS;
            (from..i).find(|&j| flat[j] == ' ').map_or(from, |j| j + 1)
        }
        _ => 0,
    };
    let end = (start + PREVIEW_CHARS).min(flat.len());
    let end = if end < flat.len() {
        // Prefer ending at a word boundary in the last fifth.
        (start + PREVIEW_CHARS * 4 / 5..end).rev().find(|&j| flat[j] == ' ').unwrap_or(end)
    } else {
        end
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&flat[start..end]);
    if end < flat.len() {
        out.push('…');
    }
    out
}

/// Lowercase one char to one char (multi-char lowercasings keep the original), so positions
/// in the lowered text equal positions in the original.
fn lower_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Search words of a query: alphanumeric runs (FTS operators, quotes and `*` dropped).
fn terms(query: &str) -> Vec<Vec<char>> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT" | "NEAR"))
        .map(|w| w.chars().map(lower_char).collect())
        .collect()
}

fn find(hay: &[char], needle: &[char]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_on_the_first_match() {
        let content = format!("{} needle in the haystack {}", "word ".repeat(100), "tail ".repeat(100));
        let p = preview(&content, Some("\"NEEDLE\" haystack*"));
        assert!(p.starts_with('…') && p.ends_with('…'), "{p}");
        assert!(p.contains("needle in the haystack"), "{p}");
        assert!(p.chars().count() <= PREVIEW_CHARS + 2);
    }

    #[test]
    fn no_match_or_short_content() {
        assert_eq!(preview("  short\n\ntext  ", Some("zzz")), "short text");
        assert_eq!(preview("", None), "");
        let long = "a".repeat(500);
        let p = preview(&long, None);
        assert_eq!(p.chars().count(), PREVIEW_CHARS + 1);
        assert!(p.ends_with('…'));
        assert_eq!(preview("Émoji 🎉 party", Some("🎉 ÉMOJI")), "Émoji 🎉 party");
    }
}
