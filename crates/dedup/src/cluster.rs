//! Clusters of strong pairs: connected components (union-find) over `possible` and `duplicate`
//! pairs, split again where a component chains too far (A like B, B like C, A unlike C): a
//! component must have every member linked to at least half of the others, or its weakest links
//! are dropped and it is clustered again.

use crate::score::POSSIBLE_AT;

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

/// Groups items into clusters of two or more, strongest first (by their best link).
pub fn cluster(n: usize, edges: &[Edge]) -> Vec<Vec<usize>> {
    let strong: Vec<Edge> = edges
        .iter()
        .copied()
        .filter(|e| e.score >= POSSIBLE_AT && e.a != e.b && e.a < n && e.b < n)
        .collect();
    let mut out = Vec::new();
    split(n, &strong, POSSIBLE_AT, &mut out);
    let best = |members: &Vec<usize>| {
        strong
            .iter()
            .filter(|e| members.contains(&e.a) && members.contains(&e.b))
            .map(|e| e.score)
            .fold(0.0, f64::max)
    };
    let mut scored: Vec<(f64, Vec<usize>)> = out.into_iter().map(|m| (best(&m), m)).collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
    scored.into_iter().map(|(_, m)| m).collect()
}

fn split(n: usize, edges: &[Edge], threshold: f64, out: &mut Vec<Vec<usize>>) {
    let mut uf = UnionFind::new(n);
    for e in edges.iter().filter(|e| e.score >= threshold) {
        uf.union(e.a, e.b);
    }
    let mut components: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for e in edges.iter().filter(|e| e.score >= threshold) {
        for x in [e.a, e.b] {
            let root = uf.find(x);
            let members = components.entry(root).or_default();
            if !members.contains(&x) {
                members.push(x);
            }
        }
    }
    for (_, mut members) in components {
        members.sort_unstable();
        let inside: Vec<Edge> = edges
            .iter()
            .copied()
            .filter(|e| {
                e.score >= threshold
                    && members.binary_search(&e.a).is_ok()
                    && members.binary_search(&e.b).is_ok()
            })
            .collect();
        let size = members.len();
        let dense = members.iter().all(|m| {
            let links = inside.iter().filter(|e| e.a == *m || e.b == *m).count();
            2 * links >= size - 1
        });
        if dense {
            out.push(members);
        } else {
            // Drop the weakest links and try again; each round removes at least one edge.
            let weakest = inside.iter().map(|e| e.score).fold(f64::INFINITY, f64::min);
            let stronger: Vec<Edge> = inside.into_iter().filter(|e| e.score > weakest).collect();
            split(n, &stronger, weakest.next_up_or(threshold), out);
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
