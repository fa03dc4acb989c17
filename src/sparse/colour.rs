//! Colourings that compress a sparse Jacobian or Hessian into few passes.
//!
//! - **Columns** (distance-1 colouring of the column intersection graph):
//!   two columns get different colours if some row has an entry in both. A
//!   forward pass seeded with the sum of one colour's unit vectors then gives
//!   `J s`, whose entry `i` is `J[i, j]` for the only column `j` of that
//!   colour in row `i`. Any banded Jacobian of bandwidth `b` needs `b`
//!   colours, whatever its size.
//! - **Rows**: the same for `Jᵀ`; a reverse sweep seeded with one colour's
//!   outputs gives `wᵀ J`.
//! - **Star** (Gebremedhin, Manne and Pothen, *What color is your Jacobian?*,
//!   SIAM Review 47(4), 2005): a distance-1 colouring of the adjacency graph
//!   of a symmetric pattern in which every path on four vertices uses at
//!   least three colours. Then every entry `H[i, j]` is read directly either
//!   from `(H s_c(j))[i]` or, by symmetry, from `(H s_c(i))[j]`. It needs no
//!   more colours than a column colouring and often far fewer: an arrowhead
//!   (a dense first row and column plus the diagonal) needs 2 instead of `n`.
//!
//! The colourings are greedy, tried in three vertex orders (natural,
//! largest-first and smallest-last), keeping the one with fewest colours.
//! Greedy colouring is not optimal in general, but natural order is optimal
//! on banded patterns.

use super::Sparsity;

/// A colour per column (or row, or vertex) and the number of colours.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Colouring {
    colours: Vec<usize>,
    count: usize,
}

impl Colouring {
    /// A colouring from one colour per vertex (`0..count`).
    pub fn new(colours: Vec<usize>) -> Self {
        let count = colours.iter().map(|&c| c + 1).max().unwrap_or(0);
        Colouring { colours, count }
    }

    /// The colour of every vertex.
    pub fn colours(&self) -> &[usize] {
        &self.colours
    }

    /// The number of colours: the number of compressed products needed.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The vertices of each colour.
    pub fn groups(&self) -> Vec<Vec<usize>> {
        let mut g = vec![Vec::new(); self.count];
        for (v, &c) in self.colours.iter().enumerate() {
            g[c].push(v);
        }
        g
    }
}

/// The stamp-based scratch for "is colour `c` forbidden for the current vertex".
struct Forbidden {
    stamp: Vec<usize>,
}

impl Forbidden {
    fn new(n: usize) -> Self {
        Forbidden {
            stamp: vec![usize::MAX; n + 1],
        }
    }
    #[inline]
    fn forbid(&mut self, c: usize, v: usize) {
        self.stamp[c] = v;
    }
    /// The smallest colour not forbidden for `v`.
    fn first_free(&self, v: usize) -> usize {
        self.stamp
            .iter()
            .position(|&s| s != v)
            .expect("n + 1 colours always leave one free")
    }
}

/// Greedy colouring of the columns of `p` (`pt` is its transpose) in `order`.
fn greedy_columns(p: &Sparsity, pt: &Sparsity, order: &[usize]) -> Colouring {
    const NONE: usize = usize::MAX;
    let n = p.ncols();
    let mut colour = vec![NONE; n];
    let mut forbidden = Forbidden::new(n);
    for &j in order {
        for &i in pt.row(j) {
            for &k in p.row(i) {
                if colour[k] != NONE {
                    forbidden.forbid(colour[k], j);
                }
            }
        }
        colour[j] = forbidden.first_free(j);
    }
    Colouring::new(colour)
}

/// Greedy distance-1 colouring of an explicit graph in `order`.
fn greedy_graph(adj: &[Vec<usize>], order: &[usize]) -> Colouring {
    const NONE: usize = usize::MAX;
    let mut colour = vec![NONE; adj.len()];
    let mut forbidden = Forbidden::new(adj.len());
    for &v in order {
        for &w in &adj[v] {
            if colour[w] != NONE {
                forbidden.forbid(colour[w], v);
            }
        }
        colour[v] = forbidden.first_free(v);
    }
    Colouring::new(colour)
}

/// Smallest-last order (Matula and Beck, 1983): repeatedly remove a vertex
/// of least degree in what remains; colour in the reverse order of removal.
/// `O(n + m)` with lazily updated degree buckets.
fn smallest_last(adj: &[Vec<usize>]) -> Vec<usize> {
    let n = adj.len();
    let mut deg: Vec<usize> = adj.iter().map(Vec::len).collect();
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); deg.iter().max().map_or(0, |d| d + 1)];
    for (v, &d) in deg.iter().enumerate() {
        buckets[d].push(v);
    }
    let mut removed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut lo = 0;
    while order.len() < n {
        while buckets[lo].is_empty() {
            lo += 1;
        }
        let v = buckets[lo].pop().expect("non-empty");
        if removed[v] || deg[v] != lo {
            continue; // a stale entry
        }
        removed[v] = true;
        order.push(v);
        for &w in &adj[v] {
            if !removed[w] {
                deg[w] -= 1;
                buckets[deg[w]].push(w);
            }
        }
        lo = lo.saturating_sub(1);
    }
    order.reverse();
    order
}

/// Natural, largest-first and smallest-last orders of a graph.
fn graph_orders(adj: &[Vec<usize>]) -> [Vec<usize>; 3] {
    let natural: Vec<usize> = (0..adj.len()).collect();
    let mut largest = natural.clone();
    largest.sort_by_key(|&v| std::cmp::Reverse(adj[v].len()));
    [natural, largest, smallest_last(adj)]
}

fn fewest(cs: impl IntoIterator<Item = Colouring>) -> Colouring {
    cs.into_iter()
        .min_by_key(|c| c.count)
        .expect("at least one colouring")
}

/// The column intersection graph of `p` (`pt` its transpose): columns
/// sharing a row are adjacent.
fn intersection_graph(p: &Sparsity, pt: &Sparsity) -> Vec<Vec<usize>> {
    let mut stamp = vec![usize::MAX; p.ncols()];
    (0..p.ncols())
        .map(|j| {
            stamp[j] = j;
            let mut nb = Vec::new();
            for &i in pt.row(j) {
                for &k in p.row(i) {
                    if stamp[k] != j {
                        stamp[k] = j;
                        nb.push(k);
                    }
                }
            }
            nb
        })
        .collect()
}

/// A distance-1 colouring of the columns of `p`: no row has entries in two
/// columns of the same colour. Forward mode then needs one directional
/// derivative per colour.
///
/// ```
/// use dualtape::sparse::{colour, Sparsity};
///
/// // Tridiagonal, 6 × 6: 3 colours, whatever the size.
/// let p = Sparsity::from_entries(6, 6, (0..6usize).flat_map(|i| {
///     (i.saturating_sub(1)..(i + 2).min(6)).map(move |j| (i, j))
/// }));
/// let c = colour::columns(&p);
/// assert_eq!(c.count(), 3);
/// assert_eq!(c.colours(), &[0, 1, 2, 0, 1, 2]);
/// assert!(colour::is_column_colouring(&p, &c));
/// ```
pub fn columns(p: &Sparsity) -> Colouring {
    let pt = p.transpose();
    // The intersection graph has up to Σ_i |row i|² edges: build it when
    // that is a small multiple of the pattern, else colour without it.
    let work: usize = (0..p.nrows()).map(|i| p.row(i).len().pow(2)).sum();
    if work <= 64 * p.nnz() + (1 << 20) {
        let adj = intersection_graph(p, &pt);
        fewest(graph_orders(&adj).iter().map(|o| greedy_graph(&adj, o)))
    } else {
        let natural: Vec<usize> = (0..p.ncols()).collect();
        let mut largest = natural.clone();
        largest.sort_by_key(|&j| {
            std::cmp::Reverse(pt.row(j).iter().map(|&i| p.row(i).len()).sum::<usize>())
        });
        fewest([&natural, &largest].map(|o| greedy_columns(p, &pt, o)))
    }
}

/// A distance-1 colouring of the rows of `p`: no column has entries in two
/// rows of the same colour. Reverse mode then needs one sweep per colour.
pub fn rows(p: &Sparsity) -> Colouring {
    columns(&p.transpose())
}

/// Whether `c` colours the columns of `p` so that no row has two entries of
/// one colour.
pub fn is_column_colouring(p: &Sparsity, c: &Colouring) -> bool {
    if c.colours.len() != p.ncols() {
        return false;
    }
    let mut seen = Forbidden::new(c.count);
    (0..p.nrows()).all(|i| {
        p.row(i).iter().all(|&j| {
            let k = c.colours[j];
            let fresh = seen.stamp[k] != i;
            seen.forbid(k, i);
            fresh
        })
    })
}

/// Whether `c` colours the rows of `p` so that no column has two entries of
/// one colour.
pub fn is_row_colouring(p: &Sparsity, c: &Colouring) -> bool {
    is_column_colouring(&p.transpose(), c)
}

/// The adjacency of a symmetric pattern without its diagonal.
fn adjacency(p: &Sparsity) -> Vec<Vec<usize>> {
    (0..p.nrows())
        .map(|i| p.row(i).iter().copied().filter(|&j| j != i).collect())
        .collect()
}

/// Greedy star colouring in `order` (Algorithm 4.1 of Gebremedhin, Manne
/// and Pothen 2005), `O(n d³)` for maximum degree `d`.
fn greedy_star(adj: &[Vec<usize>], order: &[usize]) -> Colouring {
    const NONE: usize = usize::MAX;
    let n = adj.len();
    let mut colour = vec![NONE; n];
    let mut forbidden = Forbidden::new(n);
    for &v in order {
        for &w in &adj[v] {
            if colour[w] != NONE {
                forbidden.forbid(colour[w], v);
            }
        }
        for &w in &adj[v] {
            let cw = colour[w];
            for &x in &adj[w] {
                if x == v || colour[x] == NONE {
                    continue;
                }
                if cw == NONE {
                    // v and x are two apart through a vertex coloured later:
                    // keep them apart, so that w's colouring cannot close a
                    // two-coloured path through them.
                    forbidden.forbid(colour[x], v);
                } else if adj[x].iter().any(|&y| y != w && colour[y] == cw) {
                    // v - w - x - y would be coloured a b a b.
                    forbidden.forbid(colour[x], v);
                }
            }
        }
        colour[v] = forbidden.first_free(v);
    }
    Colouring::new(colour)
}

/// A star colouring of a symmetric pattern: every Hessian entry can be read
/// directly from one of `count()` Hessian-vector products.
///
/// ```
/// use dualtape::sparse::{colour, Sparsity};
///
/// // Arrowhead, 5 × 5: a dense first row and column plus the diagonal.
/// let n = 5;
/// let p = Sparsity::from_entries(n, n, (0..n).flat_map(|i| [(i, i), (0, i), (i, 0)]));
/// assert_eq!(colour::columns(&p).count(), n); // every column meets row 0
/// let c = colour::star(&p);
/// assert_eq!(c.count(), 2);
/// assert!(colour::is_star_colouring(&p, &c));
/// ```
///
/// # Panics
///
/// If `p` is not symmetric.
pub fn star(p: &Sparsity) -> Colouring {
    assert!(
        p.is_symmetric(),
        "sparse::colour::star: the pattern is not symmetric; a Hessian's pattern is (use \
         colour::columns for a Jacobian)"
    );
    let adj = adjacency(p);
    fewest(graph_orders(&adj).iter().map(|o| greedy_star(&adj, o)))
}

/// Where each entry of a symmetric pattern is read from in the compressed
/// products `H S` (one column per colour): `(colour, row)` per entry in the
/// pattern's order, or `None` if some entry cannot be read directly (the
/// colouring is not a star colouring of `p`).
pub(crate) fn star_recovery(p: &Sparsity, c: &Colouring) -> Option<Vec<(usize, usize)>> {
    let n = p.nrows();
    if c.colours.len() != n || !p.is_symmetric() {
        return None;
    }
    // unique[k]: entry k = (i, j) is the only entry of colour c(j) in row i.
    let mut count = vec![0usize; c.count];
    let mut unique = vec![false; p.nnz()];
    for i in 0..n {
        let r = p.row(i);
        for &j in r {
            count[c.colours[j]] += 1;
        }
        let base = p.row_offsets()[i];
        for (k, &j) in r.iter().enumerate() {
            unique[base + k] = count[c.colours[j]] == 1;
        }
        for &j in r {
            count[c.colours[j]] = 0;
        }
    }
    let mut from = Vec::with_capacity(p.nnz());
    for (k, (i, j)) in p.entries().enumerate() {
        if unique[k] {
            from.push((c.colours[j], i));
        } else {
            let t = p.position(j, i).expect("symmetric");
            if !unique[t] {
                return None;
            }
            from.push((c.colours[i], j));
        }
    }
    Some(from)
}

/// Whether every entry of the symmetric pattern `p` can be read directly
/// from the Hessian-vector products of colouring `c` (true of a star
/// colouring, and of any column colouring).
pub fn is_star_colouring(p: &Sparsity, c: &Colouring) -> bool {
    star_recovery(p, c).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn banded(n: usize, b: usize) -> Sparsity {
        Sparsity::from_entries(
            n,
            n,
            (0..n).flat_map(|i| (i.saturating_sub(b)..(i + b + 1).min(n)).map(move |j| (i, j))),
        )
    }

    /// A deterministic pseudo-random symmetric pattern with a full diagonal.
    fn random_symmetric(n: usize, per_row: usize, seed: u64) -> Sparsity {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as usize
        };
        let mut e = Vec::new();
        for i in 0..n {
            e.push((i, i));
            for _ in 0..per_row {
                let j = next() % n;
                e.push((i, j));
                e.push((j, i));
            }
        }
        Sparsity::from_entries(n, n, e)
    }

    #[test]
    fn banded_colour_counts_are_the_bandwidth() {
        for b in 0..4 {
            let p = banded(50, b);
            let c = columns(&p);
            assert_eq!(c.count(), 2 * b + 1);
            assert!(is_column_colouring(&p, &c));
            let r = rows(&p);
            assert_eq!(r.count(), 2 * b + 1);
            assert!(is_row_colouring(&p, &r));
            let s = star(&p);
            assert!(is_star_colouring(&p, &s));
            assert!(s.count() <= 2 * b + 1);
        }
    }

    #[test]
    fn tridiagonal_star_colouring_uses_three_colours() {
        let p = banded(40, 1);
        let s = star(&p);
        assert_eq!(s.count(), 3);
    }

    #[test]
    fn random_patterns_give_valid_colourings() {
        for seed in 0..20 {
            let p = random_symmetric(60, 2, seed);
            let c = columns(&p);
            assert!(is_column_colouring(&p, &c));
            let s = star(&p);
            assert!(is_star_colouring(&p, &s), "seed {seed}");
            assert!(s.count() <= c.count(), "seed {seed}");
            // Every path on 4 vertices uses at least 3 colours.
            let adj = adjacency(&p);
            let col = s.colours();
            for a in 0..60 {
                for &b in &adj[a] {
                    for &cc in &adj[b] {
                        if cc == a {
                            continue;
                        }
                        for &d in &adj[cc] {
                            if d == b || d == a {
                                continue;
                            }
                            let two = col[a] == col[cc] && col[b] == col[d];
                            assert!(!two, "seed {seed}: {a}-{b}-{cc}-{d} is two-coloured");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_non_star_colouring_is_rejected() {
        // Path 0-1-2-3 coloured a b a b: H[1,2] sits in row 1 with H[1,0]
        // (same colour as 2) and in row 2 with H[2,3] (same colour as 1).
        let p = banded(4, 1);
        let c = Colouring::new(vec![0, 1, 0, 1]);
        assert!(!is_star_colouring(&p, &c));
        assert!(is_star_colouring(&p, &Colouring::new(vec![0, 1, 2, 0])));
    }

    #[test]
    fn a_column_clash_is_rejected() {
        let p = banded(4, 1);
        assert!(!is_column_colouring(&p, &Colouring::new(vec![0, 1, 0, 1])));
        assert!(is_column_colouring(&p, &Colouring::new(vec![0, 1, 2, 0])));
    }
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    /// The 5-point stencil on a k × k grid.
    pub(super) fn grid(k: usize) -> Sparsity {
        let mut e = Vec::new();
        for i in 0..k {
            for j in 0..k {
                let p = i * k + j;
                e.push((p, p));
                if i > 0 {
                    e.push((p, p - k));
                }
                if i + 1 < k {
                    e.push((p, p + k));
                }
                if j > 0 {
                    e.push((p, p - 1));
                }
                if j + 1 < k {
                    e.push((p, p + 1));
                }
            }
        }
        Sparsity::from_entries(k * k, k * k, e)
    }

    #[test]
    fn five_point_stencil_needs_five_column_colours() {
        for k in [10, 32] {
            let p = grid(k);
            let c = columns(&p);
            assert_eq!(c.count(), 5, "k = {k}"); // a row has 5 entries: optimal
            assert!(is_column_colouring(&p, &c));
            let s = star(&p);
            assert!(is_star_colouring(&p, &s));
            assert!(s.count() <= 6, "k = {k}: {} colours", s.count()); // optimal: 5
        }
    }

    #[test]
    fn smallest_last_removes_a_least_degree_vertex_each_time() {
        let p = grid(6);
        let adj = adjacency(&p);
        let mut removal = smallest_last(&adj);
        removal.reverse();
        let mut left = vec![true; adj.len()];
        for &v in &removal {
            let deg = |u: usize| adj[u].iter().filter(|&&w| left[w]).count();
            assert!(left[v]);
            assert!((0..adj.len())
                .filter(|&u| left[u])
                .all(|u| deg(v) <= deg(u)));
            left[v] = false;
        }
        assert!(left.iter().all(|&l| !l));
    }
}
