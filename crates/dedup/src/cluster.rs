//! Clusters of strong pairs: connected components (union-find) over `possible` and `duplicate`
//! pairs, split again where a component chains too far (A like B, B like C, A unlike C): a
//! component must have every member linked to at least half of the others, or its weakest links
//! are dropped and it is clustered again.

use crate::score::POSSIBLE_AT;
use std::collections::{BTreeMap, HashMap};

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, x: usize) -> usize {
        let mut root = x;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        let mut node = x;
        while self.parent[node] != root {
            let next = self.parent[node];
            self.parent[node] = root;
            node = next;
        }
        root
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// A scored link between items `a` and `b` (indexes into the caller's list).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub a: usize,
    pub b: usize,
    pub score: f64,
}

/// Groups items into clusters of two or more, strongest first (by their best link), then by their
/// members. Linear in the links (a report at 100,000 activities holds tens of thousands).
pub fn cluster(n: usize, edges: &[Edge]) -> Vec<Vec<usize>> {
    let strong: Vec<Edge> = edges
        .iter()
        .copied()
        .filter(|e| e.score >= POSSIBLE_AT && e.a != e.b && e.a < n && e.b < n)
        .collect();
    let mut out = Vec::new();
    split(&strong, POSSIBLE_AT, &mut out);
    out.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
    out.into_iter().map(|(_, m)| m).collect()
}

/// The connected components of the links at or above `threshold`, each with its best link; a
/// component that chains too far is split again without its weakest links.
fn split(edges: &[Edge], threshold: f64, out: &mut Vec<(f64, Vec<usize>)>) {
    let edges: Vec<Edge> = edges
        .iter()
        .copied()
        .filter(|e| e.score >= threshold)
        .collect();
    // Union-find over the items these links name, numbered locally so that each round costs what
    // its own links do.
    let mut local: HashMap<usize, usize> = HashMap::new();
    let mut items: Vec<usize> = Vec::new();
    for e in &edges {
        for x in [e.a, e.b] {
            local.entry(x).or_insert_with(|| {
                items.push(x);
                items.len() - 1
            });
        }
    }
    let mut uf = UnionFind::new(items.len());
    for e in &edges {
        uf.union(local[&e.a], local[&e.b]);
    }
    let mut components: BTreeMap<usize, (Vec<usize>, Vec<Edge>)> = BTreeMap::new();
    for (i, &x) in items.iter().enumerate() {
        components.entry(uf.find(i)).or_default().0.push(x);
    }
    for e in &edges {
        let root = uf.find(local[&e.a]);
        components.entry(root).or_default().1.push(*e);
    }
    for (_, (mut members, inside)) in components {
        members.sort_unstable();
        let size = members.len();
        let mut links: HashMap<usize, usize> = HashMap::with_capacity(size);
        for e in &inside {
            *links.entry(e.a).or_default() += 1;
            *links.entry(e.b).or_default() += 1;
        }
        let dense = members
            .iter()
            .all(|m| 2 * links.get(m).copied().unwrap_or(0) >= size - 1);
        if dense {
            let best = inside.iter().map(|e| e.score).fold(0.0, f64::max);
            out.push((best, members));
        } else {
            // Drop the weakest links and try again; each round removes at least one link.
            let weakest = inside.iter().map(|e| e.score).fold(f64::INFINITY, f64::min);
            let stronger: Vec<Edge> = inside.into_iter().filter(|e| e.score > weakest).collect();
            split(&stronger, weakest.next_up_or(threshold), out);
        }
    }
}

trait NextUp {
    fn next_up_or(self, floor: f64) -> f64;
}

impl NextUp for f64 {
    fn next_up_or(self, floor: f64) -> f64 {
        (self + 1e-9).max(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(a: usize, b: usize, score: f64) -> Edge {
        Edge { a, b, score }
    }

    #[test]
    fn triangles_stay_together_and_weak_pairs_do_not_join() {
        let edges = [e(0, 1, 0.9), e(1, 2, 0.8), e(0, 2, 0.7), e(3, 4, 0.3)];
        assert_eq!(cluster(5, &edges), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn long_chains_are_split_at_their_weakest_links() {
        // 0-1-2-3-4-5 in a line: far ends are nothing alike.
        let edges = [
            e(0, 1, 0.95),
            e(1, 2, 0.6),
            e(2, 3, 0.9),
            e(3, 4, 0.58),
            e(4, 5, 0.92),
        ];
        let clusters = cluster(6, &edges);
        assert_eq!(clusters, vec![vec![0, 1], vec![4, 5], vec![2, 3]]);
    }

    #[test]
    fn clusters_come_strongest_first() {
        let edges = [e(0, 1, 0.6), e(2, 3, 0.99)];
        assert_eq!(cluster(4, &edges), vec![vec![2, 3], vec![0, 1]]);
    }
}
