"""Sparse-times-sparse products into dense arrays, cheap for the few rows of a live request.

scipy's `a @ b` costs tens of microseconds of checks and index-dtype work per call before any
arithmetic; a suggestion needs about ten such products, which was most of its time. For a handful of
query rows the same sums are one gather and one `np.bincount`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

# scipy's compiled kernels behind `a @ b` and `.toarray()`: private, so a scipy without them gets `a @ b`.
try:
    from scipy.sparse import _sparsetools

    KERNELS = hasattr(_sparsetools, "csr_matmat") and hasattr(_sparsetools, "csr_todense")
except ImportError:  # pragma: no cover - a future scipy
    KERNELS = False

# Up to this many rows the gather is cheaper than scipy's fixed cost per product...
BLOCK = 16
# ...unless the rows touch this many stored values of `b` (a long message against a large library's
# character n-grams): there scipy's compiled loop is faster than numpy's gather and bincount.
GATHER_LIMIT = 20_000
# A batch's product is made this many output cells at a time, which bounds its scratch space (12 bytes a
# cell, about 48 MB) whatever the size of the library.
BATCH_CELLS = 4_000_000


def dense_product(a: sparse.csr_matrix, b: sparse.csr_matrix) -> np.ndarray:
    """`(a @ b).toarray()` for CSR `a` (m x V) and CSR `b` (V x n), as float64.

    A row's sum does not depend on the other rows in the batch, so one message scores the same alone
    as in an archive.

    Example:
        >>> a = sparse.csr_matrix([[1.0, 0.0, 2.0]])
        >>> b = sparse.csr_matrix([[1.0, 0.0], [5.0, 5.0], [0.0, 3.0]])
        >>> dense_product(a, b).tolist()
        [[1.0, 6.0]]
    """
    m = a.shape[0]
    if m <= BLOCK:
        gathered = _gather(a, b)
        if gathered is not None:
            return gathered
    # A batch: scipy's product pays its fixed cost once, and adds each cell's terms in the same order as
    # `_gather` (a's stored values in turn, in float64), so the sums are the same to the bit.
    a = sparse.csr_matrix(a, dtype=np.float64)
    if not KERNELS:  # pragma: no cover - a future scipy
        return np.asarray((a @ b).toarray(), dtype=np.float64)
    return _batch_product(a, b)


def _batch_product(a: sparse.csr_matrix, b: sparse.csr_matrix) -> np.ndarray:
    """`(a @ b).toarray()` by scipy's own kernel, without the counting pass `a @ b` makes first to size
    its result: a block of rows can hold no more than its cells, so that is the space given. The same
    kernel adds the same terms in the same order, so the sums are those of `a @ b`, to the bit."""
    m, n = a.shape[0], b.shape[1]
    out = np.zeros((m, n))
    if not m or not n:
        return out
    step = max(1, BATCH_CELLS // n)
    large = max(a.nnz, b.nnz, a.shape[1], min(m, step) * n) >= np.iinfo(np.int32).max
    index = np.int64 if large else np.int32
    a_indptr, a_indices = a.indptr.astype(index, copy=False), a.indices.astype(index, copy=False)
    b_indptr, b_indices = b.indptr.astype(index, copy=False), b.indices.astype(index, copy=False)
    b_data = b.data.astype(np.float64, copy=False)
    indptr = np.empty(min(m, step) + 1, dtype=index)
    indices = np.empty(min(m, step) * n, dtype=index)
    data = np.empty(min(m, step) * n)
    for start in range(0, m, step):
        rows = min(step, m - start)
        # a's row pointers need no rebasing: they index its full arrays.
        _sparsetools.csr_matmat(
            rows,
            n,
            a_indptr[start : start + rows + 1],
            a_indices,
            a.data,
            b_indptr,
            b_indices,
            b_data,
            indptr,
            indices,
            data,
        )
        _sparsetools.csr_todense(rows, n, indptr, indices, data, out[start : start + rows])
    return out


def _gather(a: sparse.csr_matrix, b: sparse.csr_matrix) -> np.ndarray | None:
    """The dense product of a's few rows with `b` by numpy, or None when it reads over GATHER_LIMIT values."""
    return _gather_rows(a.data, a.indices, a.indptr, b)


def _gather_rows(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, b: sparse.csr_matrix) -> np.ndarray | None:
    """`_gather` of the CSR rows given by their three arrays (no scipy matrix needs to be built for them)."""
    m, n = len(indptr) - 1, b.shape[1]
    slices = row_slices(b.indptr, indices, limit=GATHER_LIMIT)
    if slices is None:
        return None
    positions, lengths = slices
    weights = np.repeat(np.asarray(data, dtype=np.float64), lengths) * b.data[positions]
    if m == 1:  # one live message: every term falls in row 0, so the flat cell is the column itself
        return np.bincount(b.indices[positions], weights=weights, minlength=n).reshape(1, n)
    rows = np.repeat(np.repeat(np.arange(m), np.diff(indptr)), lengths)
    flat = rows * n + b.indices[positions]
    return np.bincount(flat, weights=weights, minlength=m * n).reshape(m, n)


def row_slices(
    indptr: np.ndarray, rows: np.ndarray, *, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Where the stored values of the given rows of a CSR matrix sit, laid end to end, and how many each
    row has (None when that is over `limit`).

    Example:
        >>> positions, lengths = row_slices(np.array([0, 2, 2, 5]), np.array([2, 0]))
        >>> positions.tolist(), lengths.tolist()
        ([2, 3, 4, 0, 1], [3, 2])
    """
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    if limit is not None and total > limit:
        return None
    return np.arange(total) + np.repeat(starts - (ends - lengths), lengths), lengths


def dense_product_on(a: sparse.csr_matrix, rows: np.ndarray, b: sparse.csr_matrix) -> np.ndarray:
    """`dense_product(a, full)` where `b` holds only the sorted `rows` of `full` (its other rows are empty).

    a's values in columns outside `rows` meet only empty rows, so leaving them out removes no term and
    keeps the order of the others: the sums are the same to the bit. `b` needs no row per vocabulary entry.

    Example:
        >>> a = sparse.csr_matrix([[1.0, 7.0, 2.0]])
        >>> b = sparse.csr_matrix([[1.0, 0.0], [0.0, 3.0]])  # rows 0 and 2 of a 3-row matrix
        >>> dense_product_on(a, np.array([0, 2]), b).tolist()
        [[1.0, 6.0]]
    """
    if not len(rows):
        return np.zeros((a.shape[0], b.shape[1]))
    at = np.minimum(np.searchsorted(rows, a.indices), len(rows) - 1)
    keep = rows[at] == a.indices
    kept = np.concatenate([[0], np.cumsum(keep)])[a.indptr]
    if a.shape[0] <= BLOCK:
        # A live request: scipy's checks of a new matrix would cost more than the sums.
        gathered = _gather_rows(a.data[keep], at[keep], kept, b)
        if gathered is not None:
            return gathered
    narrowed = sparse.csr_matrix((a.data[keep], at[keep], kept), shape=(a.shape[0], len(rows)))
    return dense_product(narrowed, b)
