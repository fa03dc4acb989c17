//! [`Sparsity`]: where a Jacobian or Hessian may be nonzero.

use std::fmt;

use nalgebra::DMatrix;
use nalgebra_sparse::pattern::SparsityPattern;
use nalgebra_sparse::{CscMatrix, CsrMatrix};

/// The positions where a matrix may be nonzero: row by row (compressed sparse
/// rows), each row's column indices sorted and distinct.
///
/// The entries of a sparse Jacobian or Hessian computed with a
/// [`JacobianPlan`](super::JacobianPlan) or [`HessianPlan`](super::HessianPlan)
/// come as a plain `Vec<f64>` in this pattern's order (row 0's entries by
/// column, then row 1's, ...), which [`csr`](Sparsity::csr),
/// [`csc`](Sparsity::csc), [`triplets`](Sparsity::triplets) and
/// [`dense`](Sparsity::dense) turn into matrices.
///
/// ```
/// use dualtape::sparse::Sparsity;
///
/// // A 3 × 3 tridiagonal pattern.
/// let p = Sparsity::from_entries(3, 3, [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)]);
/// assert_eq!(p.nnz(), 7);
/// assert_eq!(p.row(1), &[0, 1, 2]);
/// assert!(p.contains(2, 1) && !p.contains(0, 2));
/// assert_eq!(p.to_string(), "**.\n***\n.**\n");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sparsity {
    nrows: usize,
    ncols: usize,
    offsets: Vec<usize>,
    indices: Vec<usize>,
}

impl Sparsity {
    /// The pattern holding the given `(row, column)` positions; repeated
    /// positions count once, and the order does not matter.
    ///
    /// # Panics
    ///
    /// If a position lies outside `nrows × ncols`.
    pub fn from_entries(
        nrows: usize,
        ncols: usize,
        entries: impl IntoIterator<Item = (usize, usize)>,
    ) -> Self {
        let mut e: Vec<(usize, usize)> = entries.into_iter().collect();
        for &(i, j) in &e {
            assert!(
                i < nrows && j < ncols,
                "Sparsity::from_entries: position ({i}, {j}) lies outside the {nrows} × {ncols} \
                 matrix; give 0-based (row, column) pairs below (nrows, ncols)"
            );
        }
        e.sort_unstable();
        e.dedup();
        Self::from_sorted(nrows, ncols, &e)
    }

    /// From sorted, distinct, in-range entries.
    pub(crate) fn from_sorted(nrows: usize, ncols: usize, e: &[(usize, usize)]) -> Self {
        let mut offsets = vec![0; nrows + 1];
        for &(i, _) in e {
            offsets[i + 1] += 1;
        }
        for i in 0..nrows {
            offsets[i + 1] += offsets[i];
        }
        Sparsity {
            nrows,
            ncols,
            offsets,
            indices: e.iter().map(|&(_, j)| j).collect(),
        }
    }

    /// From per-row sorted, distinct column lists (checked in debug builds).
    pub(crate) fn from_rows(ncols: usize, rows: impl IntoIterator<Item = Vec<usize>>) -> Self {
        let mut offsets = vec![0];
        let mut indices = Vec::new();
        for r in rows {
            debug_assert!(r.windows(2).all(|w| w[0] < w[1]) && r.iter().all(|&j| j < ncols));
            indices.extend_from_slice(&r);
            offsets.push(indices.len());
        }
        Sparsity {
            nrows: offsets.len() - 1,
            ncols,
            offsets,
            indices,
        }
    }

    /// The dense pattern: every position of `nrows × ncols`.
    pub fn dense_pattern(nrows: usize, ncols: usize) -> Self {
        Self::from_rows(ncols, (0..nrows).map(|_| (0..ncols).collect()))
    }

    /// The number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// The number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// The number of positions that may be nonzero.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// The columns of row `i` that may be nonzero, in increasing order.
    ///
    /// # Panics
    ///
    /// If `i >= nrows()`.
    pub fn row(&self, i: usize) -> &[usize] {
        assert!(
            i < self.nrows,
            "Sparsity::row: row {i} does not exist; the pattern has {} rows",
            self.nrows
        );
        &self.indices[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Where row `i`'s entries start in the values (`row_offsets()[nrows]` is `nnz()`).
    pub fn row_offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Every row's column indices, concatenated.
    pub fn col_indices(&self) -> &[usize] {
        &self.indices
    }

    /// The positions `(row, column)` in order: row by row, by column within a row.
    pub fn entries(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.nrows).flat_map(move |i| self.row(i).iter().map(move |&j| (i, j)))
    }

    /// Whether position `(i, j)` may be nonzero (false outside the matrix).
    pub fn contains(&self, i: usize, j: usize) -> bool {
        i < self.nrows && self.row(i).binary_search(&j).is_ok()
    }

    /// The index of position `(i, j)` among the values, if it is in the pattern.
    pub fn position(&self, i: usize, j: usize) -> Option<usize> {
        if i >= self.nrows {
            return None;
        }
        self.row(i)
            .binary_search(&j)
            .ok()
            .map(|k| self.offsets[i] + k)
    }

    /// The transposed pattern.
    pub fn transpose(&self) -> Sparsity {
        let mut offsets = vec![0; self.ncols + 1];
        for &j in &self.indices {
            offsets[j + 1] += 1;
        }
        for j in 0..self.ncols {
            offsets[j + 1] += offsets[j];
        }
        let mut next = offsets.clone();
        let mut indices = vec![0; self.indices.len()];
        for i in 0..self.nrows {
            for &j in self.row(i) {
                indices[next[j]] = i;
                next[j] += 1;
            }
        }
        Sparsity {
            nrows: self.ncols,
            ncols: self.nrows,
            offsets,
            indices,
        }
    }

    /// Whether the pattern is square and symmetric (as a Hessian's is).
    pub fn is_symmetric(&self) -> bool {
        self.nrows == self.ncols && *self == self.transpose()
    }

    /// The lower triangle, diagonal included: the entries `(i, j)` with `j <= i`.
    pub fn lower_triangle(&self) -> Sparsity {
        Self::from_rows(
            self.ncols,
            (0..self.nrows).map(|i| self.row(i).iter().copied().filter(|&j| j <= i).collect()),
        )
    }

    /// The same pattern as a [`nalgebra_sparse::pattern::SparsityPattern`]
    /// (rows major).
    pub fn to_pattern(&self) -> SparsityPattern {
        SparsityPattern::try_from_offsets_and_indices(
            self.nrows,
            self.ncols,
            self.offsets.clone(),
            self.indices.clone(),
        )
        .expect("a Sparsity is a valid CSR pattern")
    }

    /// Panics unless `values` has one entry per position.
    #[track_caller]
    fn check_values(&self, who: &str, values: &[f64]) {
        assert_eq!(
            values.len(),
            self.nnz(),
            "Sparsity::{who}: {} values for a pattern of {} entries; pass the values a plan \
             computed for this pattern (one per entry, in the pattern's order)",
            values.len(),
            self.nnz()
        );
    }

    /// The matrix with these `values` (one per position, in the pattern's
    /// order) as compressed sparse rows.
    ///
    /// # Panics
    ///
    /// If `values.len() != nnz()`.
    pub fn csr(&self, values: Vec<f64>) -> CsrMatrix<f64> {
        self.check_values("csr", &values);
        CsrMatrix::try_from_csr_data(
            self.nrows,
            self.ncols,
            self.offsets.clone(),
            self.indices.clone(),
            values,
        )
        .expect("a Sparsity is a valid CSR pattern")
    }

    /// The matrix with these `values` as compressed sparse columns.
    ///
    /// # Panics
    ///
    /// If `values.len() != nnz()`.
    pub fn csc(&self, values: &[f64]) -> CscMatrix<f64> {
        self.check_values("csc", values);
        // The transposed pattern, filled column by column.
        let t = self.transpose();
        let mut next = t.offsets.clone();
        let mut vals = vec![0.0; values.len()];
        for (k, (_, j)) in self.entries().enumerate() {
            vals[next[j]] = values[k];
            next[j] += 1;
        }
        CscMatrix::try_from_csc_data(self.nrows, self.ncols, t.offsets, t.indices, vals)
            .expect("a transposed Sparsity is a valid CSC pattern")
    }

    /// The matrix as raw triplets `(rows, cols, values)`, in the pattern's order.
    ///
    /// # Panics
    ///
    /// If `values.len() != nnz()`.
    pub fn triplets(&self, values: &[f64]) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        self.check_values("triplets", values);
        let (rows, cols) = self.entries().unzip();
        (rows, cols, values.to_vec())
    }

    /// The matrix as a dense [`DMatrix`] (zeros outside the pattern).
    ///
    /// # Panics
    ///
    /// If `values.len() != nnz()`.
    pub fn dense(&self, values: &[f64]) -> DMatrix<f64> {
        self.check_values("dense", values);
        let mut m = DMatrix::zeros(self.nrows, self.ncols);
        for ((i, j), &v) in self.entries().zip(values) {
            m[(i, j)] = v;
        }
        m
    }
}

impl From<&SparsityPattern> for Sparsity {
    /// A nalgebra-sparse pattern, read as rows major (a CSR matrix's pattern).
    fn from(p: &SparsityPattern) -> Self {
        Sparsity {
            nrows: p.major_dim(),
            ncols: p.minor_dim(),
            offsets: p.major_offsets().to_vec(),
            indices: p.minor_indices().to_vec(),
        }
    }
}

impl fmt::Display for Sparsity {
    /// One line per row: `*` where an entry may be nonzero, `.` elsewhere.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.nrows {
            let mut line = vec![b'.'; self.ncols];
            for &j in self.row(i) {
                line[j] = b'*';
            }
            f.write_str(std::str::from_utf8(&line).expect("ASCII"))?;
            f.write_str("\n")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sparsity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sparsity({} × {}, {} entries)",
            self.nrows,
            self.ncols,
            self.nnz()
        )?;
        if self.nrows <= 16 && self.ncols <= 64 {
            write!(f, "\n{self}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_agree() {
        let p = Sparsity::from_entries(2, 3, [(1, 2), (0, 0), (1, 0), (1, 2)]);
        assert_eq!(p.nnz(), 3);
        assert_eq!(p.row_offsets(), &[0, 1, 3]);
        assert_eq!(p.col_indices(), &[0, 0, 2]);
        let v = vec![1.0, 2.0, 3.0];
        let d = p.dense(&v);
        assert_eq!(
            d,
            DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0, 2.0, 0.0, 3.0])
        );
        let csr = p.csr(v.clone());
        let csc = p.csc(&v);
        for i in 0..2 {
            for j in 0..3 {
                let a = csr.get_entry(i, j).unwrap().into_value();
                let b = csc.get_entry(i, j).unwrap().into_value();
                assert_eq!((a, b), (d[(i, j)], d[(i, j)]));
            }
        }
        assert_eq!(p.triplets(&v), (vec![0, 1, 1], vec![0, 0, 2], v));
        assert_eq!(Sparsity::from(&p.to_pattern()), p);
        assert_eq!(p.transpose().transpose(), p);
        assert_eq!(p.transpose().row(0), &[0, 1]);
        assert_eq!(p.position(1, 2), Some(2));
        assert_eq!(p.position(0, 2), None);
        assert!(!p.is_symmetric());
        let s = Sparsity::from_entries(2, 2, [(0, 1), (1, 0), (1, 1)]);
        assert!(s.is_symmetric());
        assert_eq!(
            s.lower_triangle().entries().collect::<Vec<_>>(),
            vec![(1, 0), (1, 1)]
        );
    }

    #[test]
    #[should_panic(expected = "lies outside the 2 × 2 matrix")]
    fn out_of_range_entry_panics() {
        Sparsity::from_entries(2, 2, [(0, 2)]);
    }
}
