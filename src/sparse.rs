//! A compressed sparse row (CSR) matrix of `f32` values with `u32` column indices: the
//! document × feature matrix. Documents × vocabulary is never held dense.

use std::borrow::Cow;

use rayon::prelude::*;

/// Rows processed per parallel task. Fixed, so that results never depend on the number
/// of threads.
pub const ROW_BLOCK: usize = 256;

/// A sparse matrix in CSR layout. Column indices within a row are strictly increasing.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct CsrMatrix {
    n_cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl CsrMatrix {
    /// An empty matrix with `n_cols` columns and no rows, ready for [`CsrMatrix::push_row`].
    pub fn new(n_cols: usize) -> Self {
        CsrMatrix {
            n_cols,
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Build from raw parts, checking the CSR invariants.
    pub fn from_parts(
        n_cols: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f32>,
    ) -> Result<Self, String> {
        if indptr.first() != Some(&0) || *indptr.last().unwrap() != indices.len() {
            return Err("row pointers do not span the entries".into());
        }
        if indices.len() != values.len() {
            return Err("indices and values differ in length".into());
        }
        for row in indptr.windows(2) {
            if row[0] > row[1] {
                return Err("row pointers decrease".into());
            }
            let cols = &indices[row[0]..row[1]];
            if cols.windows(2).any(|w| w[0] >= w[1]) || cols.iter().any(|&c| c as usize >= n_cols) {
                return Err("column indices unsorted or out of range".into());
            }
        }
        Ok(CsrMatrix {
            n_cols,
            indptr,
            indices,
            values,
        })
    }

    /// Append a row given as (column, value) pairs sorted by column with no repeats.
    pub fn push_row(&mut self, entries: impl IntoIterator<Item = (u32, f32)>) {
        let entries = entries.into_iter();
        self.indices.reserve(entries.size_hint().0);
        self.values.reserve(entries.size_hint().0);
        for (col, value) in entries {
            debug_assert!((col as usize) < self.n_cols);
            self.indices.push(col);
            self.values.push(value);
        }
        self.indptr.push(self.indices.len());
    }

    /// Append all rows of `other`, which must have the same number of columns.
    pub fn append(&mut self, other: &CsrMatrix) {
        assert_eq!(self.n_cols, other.n_cols);
        let base = self.indices.len();
        self.indices.extend_from_slice(&other.indices);
        self.values.extend_from_slice(&other.values);
        self.indptr
            .extend(other.indptr[1..].iter().map(|&p| p + base));
    }

    /// The rows of `blocks`, in order, as one matrix of `n_cols` columns (each block must
    /// have that many), allocated once.
    pub fn concat(n_cols: usize, blocks: &[CsrMatrix]) -> CsrMatrix {
        let nnz = blocks.iter().map(CsrMatrix::nnz).sum();
        let rows: usize = blocks.iter().map(CsrMatrix::n_rows).sum();
        let mut out = CsrMatrix {
            n_cols,
            indptr: Vec::with_capacity(rows + 1),
            indices: Vec::with_capacity(nnz),
            values: Vec::with_capacity(nnz),
        };
        out.indptr.push(0);
        for block in blocks {
            out.append(block);
        }
        out
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `i` as (columns, values).
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (start, end) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[start..end], &self.values[start..end])
    }

    /// The rows at `rows`, in that order.
    pub fn select_rows(&self, rows: &[usize]) -> CsrMatrix {
        let mut out = CsrMatrix::new(self.n_cols);
        for &r in rows {
            let (cols, vals) = self.row(r);
            out.push_row(cols.iter().copied().zip(vals.iter().copied()));
        }
        out
    }

    /// The transpose, also in CSR layout (that is, this matrix in CSC layout). Used to
    /// compute `Xᵀ·R` one feature at a time, deterministically and in parallel.
    pub fn transpose(&self) -> CsrMatrix {
        let mut counts = vec![0usize; self.n_cols + 1];
        for &c in &self.indices {
            counts[c as usize + 1] += 1;
        }
        for i in 0..self.n_cols {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![0f32; self.nnz()];
        for r in 0..self.n_rows() {
            let (cols, vals) = self.row(r);
            for (&c, &v) in cols.iter().zip(vals) {
                let slot = &mut next[c as usize];
                indices[*slot] = r as u32;
                values[*slot] = v;
                *slot += 1;
            }
        }
        CsrMatrix {
            n_cols: self.n_rows(),
            indptr,
            indices,
            values,
        }
    }

    /// `out = self · dense`, where `dense` is `n_cols × k` row-major and `out` is
    /// `n_rows × k` row-major. Parallel over fixed row blocks; exact same result for any
    /// thread count.
    pub fn mul_dense(&self, dense: &[f64], k: usize, out: &mut [f64]) {
        assert_eq!(dense.len(), self.n_cols * k);
        assert_eq!(out.len(), self.n_rows() * k);
        out.par_chunks_mut(ROW_BLOCK * k)
            .enumerate()
            .for_each(|(block, chunk)| {
                let first = block * ROW_BLOCK;
                for (offset, out_row) in chunk.chunks_mut(k).enumerate() {
                    let (cols, vals) = self.row(first + offset);
                    row_times_dense(cols, vals, dense, out_row);
                }
            });
    }

    /// Every row's L2 norm.
    pub fn row_norms(&self) -> Vec<f64> {
        (0..self.n_rows())
            .map(|i| {
                let (_, vals) = self.row(i);
                vals.iter()
                    .map(|&v| (v as f64) * (v as f64))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect()
    }

    /// Multiply column `j` by `scale[j]`, in place.
    pub fn scale_columns(&mut self, scale: &[f32]) {
        assert_eq!(scale.len(), self.n_cols);
        for (v, &c) in self.values.iter_mut().zip(&self.indices) {
            *v *= scale[c as usize];
        }
    }
}

/// `out = row · dense` for one sparse row, `dense` being `n_cols × out.len()` row-major: the
/// one definition of a row's scores, so every storage gives the same bits.
#[inline]
pub(crate) fn row_times_dense(cols: &[u32], vals: &[f32], dense: &[f64], out: &mut [f64]) {
    let k = out.len();
    out.fill(0.0);
    let dense_row = |c: u32| &dense[c as usize * k..(c as usize + 1) * k];
    crate::prefetch::pipelined(
        cols.len(),
        out,
        |_, i| crate::prefetch::prefetch(dense_row(cols[i])),
        |out, i| {
            let v = vals[i] as f64;
            for (o, &wk) in out.iter_mut().zip(dense_row(cols[i])) {
                *o += v * wk;
            }
        },
    );
}

/// Sorts one row's (column, value) entries by column, reusing its buffers from row to
/// row. A row's columns are distinct and below a known bound, so two counting passes over
/// the column's low and high bits (an LSD radix sort) order them without comparisons: on
/// rows of ~200 n-grams among ~200,000 columns that is 2–3× faster than
/// `sort_unstable_by_key`, which is what short rows and huge vocabularies (where clearing
/// the digit counts would cost more than comparing) fall back to. Either way the result is
/// the one order of distinct columns.
#[derive(Debug, Default)]
pub struct ColumnSorter<T> {
    scratch: Vec<(u32, T)>,
    counts: Vec<u32>,
}

impl<T: Copy + Default> ColumnSorter<T> {
    /// Sort `entries` (distinct columns, each below `n_cols`) by column.
    pub fn sort(&mut self, entries: &mut [(u32, T)], n_cols: usize) {
        debug_assert!(entries.iter().all(|&(c, _)| (c as usize) < n_cols));
        let bits = usize::BITS - n_cols.saturating_sub(1).leading_zeros();
        let low_bits = bits.div_ceil(2);
        let (n_low, n_high) = (1usize << low_bits, 1usize << (bits - low_bits));
        // The two passes touch each entry twice and each digit count three times.
        if entries.len() < 32 || n_low + n_high > 8 * entries.len() {
            entries.sort_unstable_by_key(|&(c, _)| c);
            return;
        }
        self.counts.clear();
        self.counts.resize(n_low + n_high, 0);
        let (low, high) = self.counts.split_at_mut(n_low);
        let mask = (n_low - 1) as u32;
        for &(c, _) in entries.iter() {
            low[(c & mask) as usize] += 1;
            high[(c >> low_bits) as usize] += 1;
        }
        for digit_counts in [&mut *low, &mut *high] {
            let mut start = 0;
            for count in digit_counts.iter_mut() {
                (*count, start) = (start, start + *count);
            }
        }
        self.scratch.clear();
        self.scratch.resize(entries.len(), (0, T::default()));
        for &entry in entries.iter() {
            let slot = &mut low[(entry.0 & mask) as usize];
            self.scratch[*slot as usize] = entry;
            *slot += 1;
        }
        for &entry in &self.scratch {
            let slot = &mut high[(entry.0 >> low_bits) as usize];
            entries[*slot as usize] = entry;
            *slot += 1;
        }
    }
}

/// One row's columns and values, reused from row to row so that reading rows allocates
/// nothing once the buffer has grown.
#[derive(Debug, Clone, Default)]
pub struct RowBuffer {
    pub cols: Vec<u32>,
    pub vals: Vec<f32>,
}

/// Row-at-a-time access to a documents × features matrix, whatever its storage: the plain
/// [`CsrMatrix`] or the compact [`crate::packed::PackedMatrix`] that training uses. Solvers
/// that visit one row at a time (ASGD) read rows through it; those that need whole-matrix
/// products (L-BFGS) ask for the CSR form.
pub trait SparseRows: Sync {
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// Number of columns.
    fn n_cols(&self) -> usize;
    /// Number of stored entries.
    fn nnz(&self) -> usize;
    /// Replace `row` with row `i` (columns strictly increasing).
    fn read_row(&self, i: usize, row: &mut RowBuffer);
    /// Replace `cols` with the columns of row `i` (strictly increasing), for passes that
    /// only count which n-grams a document has: storages that rebuild values skip that.
    fn read_cols(&self, i: usize, cols: &mut Vec<u32>);
    /// The matrix as CSR: borrowed when it already is one.
    fn to_csr(&self) -> Cow<'_, CsrMatrix>;

    /// `out = self · dense`, as [`CsrMatrix::mul_dense`] (parallel over fixed row blocks,
    /// the same bits for any storage and thread count).
    fn mul_dense(&self, dense: &[f64], k: usize, out: &mut [f64]) {
        assert_eq!(dense.len(), self.n_cols() * k);
        assert_eq!(out.len(), self.n_rows() * k);
        out.par_chunks_mut(ROW_BLOCK * k).enumerate().for_each_init(
            RowBuffer::default,
            |row, (block, chunk)| {
                let first = block * ROW_BLOCK;
                for (offset, out_row) in chunk.chunks_mut(k).enumerate() {
                    self.read_row(first + offset, row);
                    row_times_dense(&row.cols, &row.vals, dense, out_row);
                }
            },
        );
    }
}

impl SparseRows for CsrMatrix {
    fn n_rows(&self) -> usize {
        CsrMatrix::n_rows(self)
    }

    fn n_cols(&self) -> usize {
        self.n_cols
    }

    fn nnz(&self) -> usize {
        CsrMatrix::nnz(self)
    }

    fn read_row(&self, i: usize, row: &mut RowBuffer) {
        let (cols, vals) = self.row(i);
        row.cols.clear();
        row.cols.extend_from_slice(cols);
        row.vals.clear();
        row.vals.extend_from_slice(vals);
    }

    fn read_cols(&self, i: usize, cols: &mut Vec<u32>) {
        cols.clear();
        cols.extend_from_slice(self.row(i).0);
    }

    fn to_csr(&self) -> Cow<'_, CsrMatrix> {
        Cow::Borrowed(self)
    }

    fn mul_dense(&self, dense: &[f64], k: usize, out: &mut [f64]) {
        CsrMatrix::mul_dense(self, dense, k, out)
    }
}

impl<T: SparseRows + ?Sized> SparseRows for &T {
    fn n_rows(&self) -> usize {
        (**self).n_rows()
    }

    fn n_cols(&self) -> usize {
        (**self).n_cols()
    }

    fn nnz(&self) -> usize {
        (**self).nnz()
    }

    fn read_row(&self, i: usize, row: &mut RowBuffer) {
        (**self).read_row(i, row)
    }

    fn read_cols(&self, i: usize, cols: &mut Vec<u32>) {
        (**self).read_cols(i, cols)
    }

    fn to_csr(&self) -> Cow<'_, CsrMatrix> {
        (**self).to_csr()
    }

    fn mul_dense(&self, dense: &[f64], k: usize, out: &mut [f64]) {
        (**self).mul_dense(dense, k, out)
    }
}

impl AsRef<CsrMatrix> for CsrMatrix {
    fn as_ref(&self) -> &CsrMatrix {
        self
    }
}

impl linfa::dataset::Records for CsrMatrix {
    type Elem = f32;
    fn nsamples(&self) -> usize {
        self.n_rows()
    }
    fn nfeatures(&self) -> usize {
        self.n_cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> CsrMatrix {
        // [[1, 0, 2], [0, 0, 0], [0, 3, 0]]
        CsrMatrix::from_parts(3, vec![0, 2, 2, 3], vec![0, 2, 1], vec![1.0, 2.0, 3.0]).unwrap()
    }

    #[test]
    fn multiplies_by_a_dense_matrix() {
        let m = example();
        let dense = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0]; // 3 × 2
        let mut out = vec![0.0; 6];
        m.mul_dense(&dense, 2, &mut out);
        assert_eq!(out, [7.0, 70.0, 0.0, 0.0, 6.0, 60.0]);
    }

    #[test]
    fn transpose_twice_is_identity() {
        let m = example();
        let t = m.transpose();
        assert_eq!(t.n_rows(), 3);
        assert_eq!(t.row(2), (&[0u32][..], &[2.0f32][..]));
        assert_eq!(t.transpose(), m);
    }

    #[test]
    fn column_sorter_orders_like_a_comparison_sort() {
        let mut sorter = ColumnSorter::default();
        let mut state = 7u64;
        for (len, n_cols) in [
            (0, 1),
            (1, 1),
            (5, 10),
            (40, 64),
            (300, 200_000),
            (300, 1 << 31),
        ] {
            let mut columns: Vec<u32> = Vec::new();
            while columns.len() < len {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let c = ((state >> 33) % n_cols as u64) as u32;
                if !columns.contains(&c) {
                    columns.push(c);
                }
            }
            let mut entries: Vec<(u32, u32)> = columns.iter().map(|&c| (c, c ^ 5)).collect();
            let mut expected = entries.clone();
            expected.sort_unstable();
            sorter.sort(&mut entries, n_cols);
            assert_eq!(entries, expected, "{len} entries below {n_cols}");
        }
    }

    #[test]
    fn rejects_unsorted_columns() {
        assert!(CsrMatrix::from_parts(3, vec![0, 2], vec![2, 0], vec![1.0, 1.0]).is_err());
    }
}
