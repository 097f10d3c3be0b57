//! Word search over the catalog.

use std::cmp::Reverse;

use super::{Endpoint, Product};

/// See [`crate::endpoints::search`].
pub(super) fn search(endpoints: &'static [Endpoint], words: &str) -> Vec<&'static Endpoint> {
    let mut terms: Vec<String> = words
        .split(|c: char| c.is_whitespace() || c == '/')
        .filter(|term| !term.is_empty())
        .map(str::to_lowercase)
        .collect();
    terms.sort_unstable();
    terms.dedup();
    if terms.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(u32, Product, usize, usize)> = Vec::new();
    'endpoints: for (index, endpoint) in endpoints.iter().enumerate() {
        let title = endpoint.title.to_lowercase();
        let mut total = 0;
        for term in &terms {
            match score(endpoint, &title, term) {
                0 => continue 'endpoints,
                points => total += points,
            }
        }
        let segments = endpoint.template.split('/').count();
        hits.push((total, endpoint.product, segments, index));
    }
    hits.sort_unstable_by_key(|&(total, product, segments, index)| {
        (Reverse(total), product, segments, index)
    });
    hits.into_iter()
        .map(|(_, _, _, index)| &endpoints[index])
        .collect()
}

/// How well `term` (lower case) matches `endpoint`, whose title is `title` in lower case:
/// 0 when it does not.
fn score(endpoint: &Endpoint, title: &str, term: &str) -> u32 {
    let mut best = 0;
    for segment in endpoint.template.split('/') {
        let bare = segment.trim_start_matches('{').trim_end_matches('}');
        let points = if bare == term {
            4
        } else if bare.split(['-', '_']).any(|word| word == term) {
            3
        } else if bare.contains(term) {
            1
        } else {
            0
        };
        best = best.max(points);
    }
    if title == term {
        best = best.max(4);
    } else if title.contains(term) {
        best = best.max(2);
    }
    if endpoint.method.as_str().eq_ignore_ascii_case(term) {
        best = best.max(2);
    }
    best
}
