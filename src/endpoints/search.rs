//! Word search over the catalog.

use std::cmp::Reverse;

use super::{Endpoint, Product};
use crate::normalize::normalize_segment;

/// One word of a search: as typed (lower case), and as the PHP SDK's normalisation turns a
/// chain segment (`sendPrepaidmessage` → `send-prepaidmessage`, `_out_order_no_` →
/// `out_order_no`, a variable's name).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Term {
    typed: String,
    normalized: String,
}

/// See [`crate::endpoints::search`].
pub(super) fn search(endpoints: &'static [Endpoint], words: &str) -> Vec<&'static Endpoint> {
    // `->` and `.` separate the segments of a PHP chain or a `chain!` path.
    let words = words.replace("->", " ");
    let mut terms: Vec<Term> = words
        .split(|c: char| c.is_whitespace() || c == '/' || c == '.')
        .filter(|term| !term.is_empty())
        .map(|term| Term {
            typed: term.to_lowercase(),
            // A variable is matched by its name, as the template's are.
            normalized: normalize_segment(term)
                .trim_start_matches('{')
                .trim_end_matches('}')
                .to_lowercase(),
        })
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
            let points = score(endpoint, &title, &term.typed);
            match points.max(score(endpoint, &title, &term.normalized)) {
                0 => continue 'endpoints,
                best => total += best,
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
