//! Prefetch hints for the memory-latency-bound loops: n-gram lookups in a vocabulary of
//! hundreds of thousands of entries and the weight rows a document touches are reads
//! scattered over megabytes, each a likely cache miss. Asking for the data a few items ahead
//! lets those misses overlap instead of following one another.

/// How many items ahead of use a pipelined loop ([`pipelined`]) asks for its data: enough to
/// hide a miss behind the work on the items between, few enough that the requests in flight
/// stay within what the CPU tracks at once (about 16 outstanding misses on current x86 cores).
pub const DISTANCE: usize = 12;

/// Ask the CPU to start loading the cache lines of `items` into L2 (not L1: the loops that
/// use this touch more data than L1 holds). A hint only: it never faults and changes no
/// result. A no-op on other architectures than x86-64.
#[inline(always)]
pub fn prefetch<T>(items: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
        let start = items.as_ptr() as *const i8;
        let bytes = std::mem::size_of_val(items);
        let mut offset = 0;
        while offset < bytes {
            // SAFETY: prefetching is a hint with no effect on memory; the address lies
            // inside `items` (offset < its length in bytes).
            unsafe { _mm_prefetch(start.add(offset), _MM_HINT_T1) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = items;
}

/// Call `work(state, i)` for every `i` in `0..n`, in order, after calling
/// `ahead(state, i + DISTANCE)` (the prefetch of a later item's data), so that item `i`'s data
/// was requested [`DISTANCE`] items before it is used. `state` is what both read and `work`
/// may change.
#[inline(always)]
pub fn pipelined<S: ?Sized>(
    n: usize,
    state: &mut S,
    ahead: impl Fn(&S, usize),
    mut work: impl FnMut(&mut S, usize),
) {
    for i in 0..n.min(DISTANCE) {
        ahead(state, i);
    }
    for i in 0..n {
        if i + DISTANCE < n {
            ahead(state, i + DISTANCE);
        }
        work(state, i);
    }
}
