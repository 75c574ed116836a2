//! The training matrix in a compact form: TF-IDF rows stored as their n-gram *counts*, with
//! the weights rebuilt exactly on reading.
//!
//! A [`CsrMatrix`] spends 8 bytes per stored entry (a `u32` column and an `f32` value). A
//! document of 30 words has about 560 distinct word and character n-grams, so a million of
//! them need 4.5 GB that way. Here each entry is the gap to the previous column of its row
//! and a flag saying whether its count exceeds one, as one LEB128 varint (followed by the
//! count when it does): about 2 bytes. The weight is a pure function of the count, the
//! column's IDF and one scale per row and view (see [`crate::vectorize`]), so reading a row
//! gives bit for bit the values `TfidfVectorizer::transform` computes for the same text.
//!
//! Rows are stored in chunks of a fixed number of rows, each its own allocation, so the
//! matrix is built chunk by chunk in parallel with no final concatenation.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::sparse::{CsrMatrix, RowBuffer, SparseRows};
use crate::vectorize::{scaled_weight, term_frequency};

/// Counts below this have their term frequency looked up rather than computed.
const TF_TABLE_LEN: usize = 256;

/// Append `value` to `out` as an LEB128 varint (7 bits per byte, low bits first).
pub(crate) fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Read the LEB128 varint at `bytes[*pos..]`, advancing `pos` past it.
#[inline(always)]
pub(crate) fn read_varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[*pos];
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return value;
        }
        shift += 7;
    }
}

/// Append the (id, count) entry `id` as `id << 1 | (count > 1)`, then the count if above one.
pub(crate) fn write_entry(out: &mut Vec<u8>, id: u64, count: u32) {
    write_varint(out, id << 1 | u64::from(count > 1));
    if count > 1 {
        write_varint(out, u64::from(count));
    }
}

/// Read an entry written by [`write_entry`].
#[inline(always)]
pub(crate) fn read_entry(bytes: &[u8], pos: &mut usize) -> (u64, u32) {
    let code = read_varint(bytes, pos);
    let count = if code & 1 == 1 {
        read_varint(bytes, pos) as u32
    } else {
        1
    };
    (code >> 1, count)
}

/// A run of consecutive rows of a [`PackedMatrix`], encoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackedChunk {
    bytes: Vec<u8>,
    /// End of each row in `bytes`.
    row_ends: Vec<u32>,
    /// Each row's scale per view, rows back to back.
    scales: Vec<f64>,
    /// Entries in all its rows.
    nnz: usize,
}

impl PackedChunk {
    /// Append a row: its (column, count) entries sorted by column with no repeats, and the
    /// scale of each view (the factor that turns the view's raw weights into the row's
    /// values).
    pub fn push_row(&mut self, entries: impl IntoIterator<Item = (u32, u32)>, scales: &[f64]) {
        let mut previous = 0u32;
        for (col, count) in entries {
            debug_assert!(col >= previous);
            write_entry(&mut self.bytes, u64::from(col - previous), count);
            previous = col;
            self.nnz += 1;
        }
        let end = u32::try_from(self.bytes.len()).expect("a chunk's rows fit in 4 GB");
        self.row_ends.push(end);
        self.scales.extend_from_slice(scales);
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.row_ends.len()
    }
}

/// A TF-IDF matrix stored as counts (see the module documentation), built by
/// [`crate::vectorize::TfidfVectorizer::fit_transform_packed`].
#[derive(Debug, Clone, PartialEq)]
pub struct PackedMatrix {
    n_cols: usize,
    n_rows: usize,
    nnz: usize,
    /// Rows per chunk (every chunk but the last holds exactly this many).
    chunk_rows: usize,
    chunks: Vec<PackedChunk>,
    /// First column of each view after the first.
    view_starts: Vec<u32>,
    n_views: usize,
    idf: Vec<f32>,
    sublinear_tf: bool,
    tf_table: Vec<f64>,
    /// A factor per column applied to each rebuilt value, as
    /// [`CsrMatrix::scale_columns`] applies it (see [`PackedMatrix::scale_columns`]).
    column_scale: Option<Vec<f32>>,
}

impl PackedMatrix {
    /// Assemble a matrix from its chunks (each of `chunk_rows` rows but the last), the IDF of
    /// every column, the first column of every view but the first, and the TF setting.
    pub fn new(
        chunks: Vec<PackedChunk>,
        chunk_rows: usize,
        idf: Vec<f32>,
        view_starts: Vec<u32>,
        sublinear_tf: bool,
    ) -> Self {
        let n_views = view_starts.len() + 1;
        debug_assert!(chunks
            .iter()
            .rev()
            .skip(1)
            .all(|c| c.n_rows() == chunk_rows));
        debug_assert!(chunks
            .iter()
            .all(|c| c.scales.len() == c.n_rows() * n_views));
        PackedMatrix {
            n_cols: idf.len(),
            n_rows: chunks.iter().map(PackedChunk::n_rows).sum(),
            nnz: chunks.iter().map(|c| c.nnz).sum(),
            chunk_rows: chunk_rows.max(1),
            chunks,
            view_starts,
            n_views,
            tf_table: (0..TF_TABLE_LEN as u32)
                .map(|c| term_frequency(sublinear_tf, c))
                .collect(),
            idf,
            sublinear_tf,
            column_scale: None,
        }
    }

    /// Multiply column `j` by `scale[j]`: each rebuilt value is multiplied by its column's
    /// factor, exactly as [`CsrMatrix::scale_columns`] multiplies a stored value, so the two
    /// storages keep the same bits. (A second call multiplies the factors together, which
    /// can round differently from scaling a CSR matrix twice; training scales once.)
    pub fn scale_columns(&mut self, scale: &[f32]) {
        assert_eq!(scale.len(), self.n_cols);
        match &mut self.column_scale {
            Some(current) => {
                for (c, &s) in current.iter_mut().zip(scale) {
                    *c *= s;
                }
            }
            None => self.column_scale = Some(scale.to_vec()),
        }
    }

    /// The encoded bytes of row `i`'s chunk and where the row starts and ends in them.
    fn row_bytes(&self, i: usize) -> (&[u8], usize, usize) {
        let chunk = &self.chunks[i / self.chunk_rows];
        let r = i % self.chunk_rows;
        let start = if r == 0 {
            0
        } else {
            chunk.row_ends[r - 1] as usize
        };
        (&chunk.bytes, start, chunk.row_ends[r] as usize)
    }

    /// Bytes held by the encoded rows and their offsets and scales.
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.bytes.capacity() + 4 * c.row_ends.capacity() + 8 * c.scales.capacity())
            .sum::<usize>()
            + 4 * self.idf.len()
    }
}

impl SparseRows for PackedMatrix {
    fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn n_cols(&self) -> usize {
        self.n_cols
    }

    fn nnz(&self) -> usize {
        self.nnz
    }

    fn read_cols(&self, i: usize, cols: &mut Vec<u32>) {
        cols.clear();
        let (bytes, mut pos, end) = self.row_bytes(i);
        let mut col = 0u32;
        while pos < end {
            col += read_entry(bytes, &mut pos).0 as u32;
            cols.push(col);
        }
    }

    fn read_row(&self, i: usize, row: &mut RowBuffer) {
        row.cols.clear();
        row.vals.clear();
        let (bytes, mut pos, end) = self.row_bytes(i);
        let chunk = &self.chunks[i / self.chunk_rows];
        let r = i % self.chunk_rows;
        // First the columns, with each count parked bit for bit in its value's slot; then
        // the values. The second loop's IDF loads do not wait on the varint decoding, so
        // the processor can have many of these cache misses in flight at once.
        let mut col = 0u32;
        while pos < end {
            let (gap, count) = read_entry(bytes, &mut pos);
            col += gap as u32;
            row.cols.push(col);
            row.vals.push(f32::from_bits(count));
        }
        let scales = &chunk.scales[r * self.n_views..(r + 1) * self.n_views];
        let mut view_begin = 0;
        for (view, &scale) in scales.iter().enumerate() {
            let view_end = match self.view_starts.get(view) {
                Some(&next) => view_begin + row.cols[view_begin..].partition_point(|&c| c < next),
                None => row.cols.len(),
            };
            let cols = &row.cols[view_begin..view_end];
            for (val, &c) in row.vals[view_begin..view_end].iter_mut().zip(cols) {
                let count = val.to_bits();
                let tf = match self.tf_table.get(count as usize) {
                    Some(&tf) => tf,
                    None => term_frequency(self.sublinear_tf, count),
                };
                *val = scaled_weight(tf, self.idf[c as usize], scale);
            }
            view_begin = view_end;
        }
        if let Some(column_scale) = &self.column_scale {
            for (val, &c) in row.vals.iter_mut().zip(&row.cols) {
                *val *= column_scale[c as usize];
            }
        }
    }

    /// Decoded chunk by chunk in parallel, each chunk straight into its own part of the
    /// matrix's arrays (every chunk knows its number of entries), so the matrix's memory is
    /// allocated and written once.
    fn to_csr(&self) -> Cow<'_, CsrMatrix> {
        let mut indptr = vec![0usize; self.n_rows + 1];
        let mut indices = vec![0u32; self.nnz];
        let mut values = vec![0f32; self.nnz];
        let mut parts = Vec::with_capacity(self.chunks.len());
        let (mut ends, mut cols, mut vals) = (&mut indptr[1..], &mut indices[..], &mut values[..]);
        let mut start = 0;
        for (c, chunk) in self.chunks.iter().enumerate() {
            let (chunk_ends, rest_ends) = ends.split_at_mut(chunk.row_ends.len());
            let (chunk_cols, rest_cols) = cols.split_at_mut(chunk.nnz);
            let (chunk_vals, rest_vals) = vals.split_at_mut(chunk.nnz);
            parts.push((
                c * self.chunk_rows,
                start,
                chunk_ends,
                chunk_cols,
                chunk_vals,
            ));
            (ends, cols, vals) = (rest_ends, rest_cols, rest_vals);
            start += chunk.nnz;
        }
        parts
            .into_par_iter()
            .for_each(|(first, start, ends, cols, vals)| {
                let mut row = RowBuffer::default();
                let mut at = 0;
                for (i, end) in ends.iter_mut().enumerate() {
                    self.read_row(first + i, &mut row);
                    let n = row.cols.len();
                    cols[at..at + n].copy_from_slice(&row.cols);
                    vals[at..at + n].copy_from_slice(&row.vals);
                    at += n;
                    *end = start + at;
                }
            });
        let csr = CsrMatrix::from_parts(self.n_cols, indptr, indices, values)
            .expect("packed rows are sorted, in range and add up to nnz");
        Cow::Owned(csr)
    }
}

impl linfa::dataset::Records for PackedMatrix {
    type Elem = f32;
    fn nsamples(&self) -> usize {
        self.n_rows
    }
    fn nfeatures(&self) -> usize {
        self.n_cols
    }
}

/// Size, in CSR bytes (8 per entry), up to which training decodes the packed matrix once
/// and fits on the CSR copy. Decoding a row costs about a fifth of an ASGD step (TweetEval
/// emoji, 9.4 M entries: 14.2 s packed against 11.7 s on CSR for the default search), and
/// below this size the copy's memory is small next to what training holds anyway; above
/// it the packed form's 4× saving is what lets a million documents fit in a few GB.
pub const CSR_TRAINING_BYTES: usize = 256 << 20;

/// The matrix a model is trained on, in the storage that suits its size: CSR when its
/// copy fits in [`CSR_TRAINING_BYTES`], the packed form otherwise. Both give the same
/// values bit for bit, so the choice changes time and memory, never the model.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingMatrix {
    Packed(PackedMatrix),
    Csr(CsrMatrix),
}

impl TrainingMatrix {
    /// Keep `packed` as it is, or decode it into CSR if that is small enough.
    pub fn new(packed: PackedMatrix) -> Self {
        if packed.nnz() * 8 <= CSR_TRAINING_BYTES {
            TrainingMatrix::Csr(packed.to_csr().into_owned())
        } else {
            TrainingMatrix::Packed(packed)
        }
    }

    /// Multiply column `j` by `scale[j]`, in place.
    pub fn scale_columns(&mut self, scale: &[f32]) {
        match self {
            TrainingMatrix::Packed(x) => x.scale_columns(scale),
            TrainingMatrix::Csr(x) => x.scale_columns(scale),
        }
    }

    fn rows(&self) -> &dyn SparseRows {
        match self {
            TrainingMatrix::Packed(x) => x,
            TrainingMatrix::Csr(x) => x,
        }
    }
}

impl SparseRows for TrainingMatrix {
    fn n_rows(&self) -> usize {
        self.rows().n_rows()
    }

    fn n_cols(&self) -> usize {
        self.rows().n_cols()
    }

    fn nnz(&self) -> usize {
        self.rows().nnz()
    }

    fn read_row(&self, i: usize, row: &mut RowBuffer) {
        self.rows().read_row(i, row)
    }

    fn read_cols(&self, i: usize, cols: &mut Vec<u32>) {
        self.rows().read_cols(i, cols)
    }

    fn to_csr(&self) -> Cow<'_, CsrMatrix> {
        self.rows().to_csr()
    }

    fn mul_dense(&self, dense: &[f64], k: usize, out: &mut [f64]) {
        self.rows().mul_dense(dense, k, out)
    }
}

impl linfa::dataset::Records for TrainingMatrix {
    type Elem = f32;
    fn nsamples(&self) -> usize {
        self.rows().n_rows()
    }
    fn nfeatures(&self) -> usize {
        self.rows().n_cols()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let values = [0u64, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX];
        let mut bytes = Vec::new();
        for &v in &values {
            write_varint(&mut bytes, v);
        }
        let mut pos = 0;
        for &v in &values {
            assert_eq!(read_varint(&bytes, &mut pos), v);
        }
        assert_eq!(pos, bytes.len());
    }

    #[test]
    fn entries_round_trip() {
        let entries = [(0u64, 1u32), (5, 2), (1 << 40, 1), (3, 300), (7, u32::MAX)];
        let mut bytes = Vec::new();
        for &(id, count) in &entries {
            write_entry(&mut bytes, id, count);
        }
        let mut pos = 0;
        for &e in &entries {
            assert_eq!(read_entry(&bytes, &mut pos), e);
        }
    }

    #[test]
    fn rows_read_back_across_chunks_and_views() {
        // Two views: columns 0..3 and 3..5; chunks of two rows.
        let idf = vec![1.0, 2.0, 1.5, 1.0, 3.0];
        let mut chunks = vec![PackedChunk::default(), PackedChunk::default()];
        chunks[0].push_row([(0, 1), (2, 3), (4, 1)], &[0.5, 0.25]);
        chunks[0].push_row([], &[0.0, 0.0]);
        chunks[1].push_row([(3, 300)], &[0.0, 2.0]);
        let m = PackedMatrix::new(chunks, 2, idf, vec![3], true);
        assert_eq!((m.n_rows(), m.n_cols(), m.nnz()), (3, 5, 4));
        let mut row = RowBuffer::default();
        m.read_row(0, &mut row);
        assert_eq!(row.cols, [0, 2, 4]);
        let tf3 = 1.0 + 3f64.ln();
        assert_eq!(
            row.vals,
            [
                scaled_weight(1.0, 1.0, 0.5),
                scaled_weight(tf3, 1.5, 0.5),
                scaled_weight(1.0, 3.0, 0.25)
            ]
        );
        m.read_row(1, &mut row);
        assert!(row.cols.is_empty());
        m.read_row(2, &mut row);
        assert_eq!(row.cols, [3]);
        assert_eq!(row.vals, [scaled_weight(1.0 + 300f64.ln(), 1.0, 2.0)]);
        let csr = m.to_csr();
        assert_eq!(csr.row(0).0, [0, 2, 4]);
        assert_eq!(csr.nnz(), 4);
        // Columns alone, from either storage, are those of the rows.
        let mut cols = vec![9];
        for i in 0..3 {
            m.read_row(i, &mut row);
            m.read_cols(i, &mut cols);
            assert_eq!(cols, row.cols);
            SparseRows::read_cols(csr.as_ref(), i, &mut cols);
            assert_eq!(cols, row.cols);
        }
        // Scores from the packed rows are those of the CSR form, bit for bit.
        let dense: Vec<f64> = (0..10).map(|v| v as f64 * 0.37 - 1.0).collect();
        let (mut packed_out, mut csr_out) = (vec![0.0; 6], vec![0.0; 6]);
        SparseRows::mul_dense(&m, &dense, 2, &mut packed_out);
        csr.mul_dense(&dense, 2, &mut csr_out);
        assert_eq!(packed_out, csr_out);
        assert_ne!(packed_out, vec![0.0; 6]);
    }

    #[test]
    fn training_storage_changes_nothing_but_memory() {
        use crate::logistic::{LogisticRegressionParams, Solver};
        use crate::synthetic::{SyntheticConfig, SyntheticCorpus};
        use crate::vectorize::{TfidfVectorizer, VectorizerConfig};
        use linfa::prelude::*;

        let mut corpus = SyntheticCorpus::new(SyntheticConfig {
            documents: 300,
            classes: 3,
            vocabulary: 2_000,
            ..SyntheticConfig::default()
        });
        let (mut texts, mut labels) = (Vec::new(), Vec::new());
        while let Some((text, label)) = corpus.next_document() {
            texts.push(text);
            labels.push(label);
        }
        let (_, packed) =
            TfidfVectorizer::fit_transform_packed(&VectorizerConfig::default(), &texts).unwrap();
        // Small matrices are decoded into CSR for training.
        let small = TrainingMatrix::new(packed.clone());
        assert!(matches!(small, TrainingMatrix::Csr(_)));
        let mut packed = TrainingMatrix::Packed(packed);
        // Scaled columns (NB weights) too keep the two storages' bits the same.
        let mut scaled = small.clone();
        let scale: Vec<f32> = (0..packed.n_cols())
            .map(|j| 0.5 + (j % 7) as f32 * 0.3)
            .collect();
        scaled.scale_columns(&scale);
        packed.scale_columns(&scale);
        let mut rows = (RowBuffer::default(), RowBuffer::default());
        for i in 0..packed.n_rows() {
            scaled.read_row(i, &mut rows.0);
            packed.read_row(i, &mut rows.1);
            assert_eq!(
                (&rows.0.cols, &rows.0.vals),
                (&rows.1.cols, &rows.1.vals),
                "row {i}"
            );
        }
        let small = scaled;
        for solver in [Solver::Asgd, Solver::Lbfgs] {
            let fit = |x: &TrainingMatrix| {
                LogisticRegressionParams::new()
                    .c(3.0)
                    .solver(solver)
                    .max_iterations(20)
                    .fit(&DatasetBase::new(x, ndarray::Array1::from(labels.clone())))
                    .unwrap()
            };
            let (a, b) = (fit(&small), fit(&packed));
            assert_eq!(a.coef, b.coef, "{solver:?}");
            assert_eq!(a.intercept, b.intercept, "{solver:?}");
            assert_eq!(a.predict_proba(&small), b.predict_proba(&packed));
        }
    }
}
