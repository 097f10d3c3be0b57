//! Which documented operation a request's method and wire path are.
//!
//! A wire path is `/v3/…` for APIv3 (also `/hk/v3/…` and `/global/v3/…` for the operations
//! the docs give such an access point), and the template without its `v2/` for APIv2
//! (`/pay/unifiedorder` is `v2/pay/unifiedorder`). A template's variable takes any one
//! non-empty segment; where two templates fit, the one with a literal at the first segment
//! where they differ wins (`v3/x/batch` before `v3/x/{id}`). Templates are kept in a tree of
//! segments built once, so a lookup costs the path's length, not the catalog's.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::data::{Operation, schema};
use crate::endpoints::matching::is_variable;

/// A request path matched against the documented templates.
pub(super) struct Route<'a> {
    /// The path's segments as the templates write them (`v2` first for APIv2), still
    /// percent-encoded.
    pub(super) segments: Vec<&'a str>,
    /// The access point's path below its host (`hk`, `global`), if the path had one.
    prefix: Option<&'a str>,
}

impl<'a> Route<'a> {
    /// The segments of `path` (`/v3/pay/transactions/jsapi`, `/pay/unifiedorder`,
    /// `/hk/v3/refunds`).
    pub(super) fn new(path: &'a str) -> Self {
        let path = path.strip_prefix('/').unwrap_or(path);
        let mut segments: Vec<&str> = path.split('/').collect();
        let mut prefix = None;
        if segments.len() > 2 && segments[1] == "v3" && segments[0] != "v3" {
            prefix = Some(segments.remove(0));
        } else if segments[0] != "v3" {
            segments.insert(0, "v2");
        }
        Route { segments, prefix }
    }

    /// The operations documented for `method` on this path, best fit first (several only
    /// where the docs give two templates of the same shape, e.g. a variable named two ways);
    /// empty when none is.
    pub(super) fn operations(&self, method: &str) -> Vec<&'static Operation> {
        self.find(|op| op.method == method)
    }

    /// The methods documented for this path (through any template that fits it), each once,
    /// in alphabetical order: what a request with another method is told (`405`).
    pub(super) fn methods(&self) -> Vec<&'static str> {
        let operations = &schema().operations;
        let mut methods: Vec<&'static str> = Vec::new();
        let mut all = Vec::new();
        tree().walk_all(0, &self.segments, &mut all);
        for op in all.into_iter().map(|index| &operations[index]) {
            if self.fits_prefix(op) && !methods.contains(&op.method) {
                methods.push(op.method);
            }
        }
        methods.sort_unstable();
        methods
    }

    fn fits_prefix(&self, op: &Operation) -> bool {
        self.prefix.is_none_or(|p| op.prefixes.contains(&p))
    }

    fn find(&self, wanted: impl Fn(&Operation) -> bool) -> Vec<&'static Operation> {
        let operations = &schema().operations;
        let fits = |indices: &[usize]| {
            indices
                .iter()
                .map(|&index| &operations[index])
                .filter(|op| wanted(op) && self.fits_prefix(op))
                .collect::<Vec<_>>()
        };
        tree().walk(0, &self.segments, &fits).unwrap_or_default()
    }
}

/// A node of the tree of template segments.
#[derive(Default)]
struct Node {
    /// The next literal segments.
    literals: HashMap<&'static str, usize>,
    /// The next segment when it is a variable.
    variable: Option<usize>,
    /// The templates that end here (indices into the list the tree was made of).
    operations: Vec<usize>,
}

/// Templates as a tree of segments.
pub(super) struct Tree {
    nodes: Vec<Node>,
}

/// Every documented template's tree.
fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| Tree::new(schema().operations.iter().map(|op| op.wire())))
}

impl Tree {
    /// The tree of `templates`; a template's node keeps its index in `templates`.
    pub(super) fn new(templates: impl Iterator<Item = &'static str>) -> Self {
        let mut tree = Tree {
            nodes: vec![Node::default()],
        };
        for (index, template) in templates.enumerate() {
            let mut node = 0;
            for segment in template.split('/') {
                node = tree.child(node, segment);
            }
            tree.nodes[node].operations.push(index);
        }
        tree
    }

    /// The indices of the templates that fit `path` best (`v3/x/{id}` split at `/`), all
    /// of them where several have the same shape; empty when none fits.
    #[cfg(test)]
    pub(super) fn best(&self, path: &str) -> Vec<usize> {
        let segments: Vec<&str> = path.split('/').collect();
        self.walk(0, &segments, &|indices: &[usize]| indices.to_vec())
            .unwrap_or_default()
    }

    /// The child of `node` for a template segment, added if new.
    fn child(&mut self, node: usize, segment: &'static str) -> usize {
        let next = self.nodes.len();
        let slot = if is_variable(segment) {
            self.nodes[node].variable.get_or_insert(next)
        } else {
            self.nodes[node].literals.entry(segment).or_insert(next)
        };
        let child = *slot;
        if child == next {
            self.nodes.push(Node::default());
        }
        child
    }

    /// The first fit found from `node` for `segments`, literals tried before the variable at
    /// each step: what `fits` keeps of the templates of the first node reached that keeps
    /// any.
    fn walk<T>(
        &self,
        node: usize,
        segments: &[&str],
        fits: &impl Fn(&[usize]) -> Vec<T>,
    ) -> Option<Vec<T>> {
        let node = &self.nodes[node];
        let Some((first, rest)) = segments.split_first() else {
            let found = fits(&node.operations);
            return (!found.is_empty()).then_some(found);
        };
        if let Some(&next) = node.literals.get(first)
            && let Some(found) = self.walk(next, rest, fits)
        {
            return Some(found);
        }
        match node.variable {
            Some(next) if !first.is_empty() => self.walk(next, rest, fits),
            _ => None,
        }
    }

    /// Every template that fits `segments` from `node`, into `out`.
    fn walk_all(&self, node: usize, segments: &[&str], out: &mut Vec<usize>) {
        let node = &self.nodes[node];
        let Some((first, rest)) = segments.split_first() else {
            out.extend(&node.operations);
            return;
        };
        if let Some(&next) = node.literals.get(first) {
            self.walk_all(next, rest, out);
        }
        if let Some(next) = node.variable.filter(|_| !first.is_empty()) {
            self.walk_all(next, rest, out);
        }
    }
}
