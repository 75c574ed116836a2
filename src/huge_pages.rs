//! Transparent huge pages for the large tables read at random: the ASGD weights (tens of
//! megabytes, one row per n-gram of a document, scattered over all of them), a model's weights
//! when predicting, and the vocabulary tables that vectorising probes once they pass the
//! threshold (emoji's, at 3 MB each, stay below it). With 4 KiB pages
//! each of those reads is also a likely TLB miss (emoji's 31 MB of weights span 7,600 pages,
//! several times what a core's TLB holds); with 2 MiB pages they span 16.
//!
//! [`HugePageAlloc`] is a global allocator that forwards to the system's and asks the kernel
//! (`madvise(MADV_HUGEPAGE)`) to back each allocation of at least [`THRESHOLD`] bytes with huge
//! pages. Linux's default transparent-huge-page setting, `madvise`, gives them only to memory
//! so marked. The `stance` binary installs it; a program using the library installs it with
//! `#[global_allocator] static ALLOC: stance::huge_pages::HugePageAlloc =
//! stance::huge_pages::HugePageAlloc;`.
//! Elsewhere than on Linux it is the system allocator. It changes no result, only speed.

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations this large or larger are advised to use huge pages. Small ones are not: they
/// share pages with others, and a huge page half used would cost memory for nothing.
pub const THRESHOLD: usize = 4 << 20;

/// The huge page size on x86-64 and most aarch64 kernels.
const HUGE_PAGE: usize = 2 << 20;

// Any allocation of THRESHOLD bytes or more, wherever it starts, holds a whole huge page.
const _: () = assert!(THRESHOLD >= 2 * HUGE_PAGE);

/// The system allocator, with huge pages advised for large allocations.
pub struct HugePageAlloc;

// SAFETY: every call forwards to `System` with the same arguments and returns its result;
// the advice changes how the kernel backs the memory, not its contents or validity.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        advise(new, new_size);
        new
    }
}

/// Advise huge pages for the whole huge pages inside `len` bytes at `ptr`, when `len` is at
/// least [`THRESHOLD`]. A failure (an old kernel, huge pages disabled) leaves ordinary pages.
#[inline]
fn advise(ptr: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    if let Some((start, end)) = advised_range(ptr as usize, len) {
        // SAFETY: [start, end) lies inside the allocation just made; MADV_HUGEPAGE only
        // sets a flag on the mapping and never changes its contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, len);
}

/// The address range to advise for an allocation of `len` bytes at `address`: the whole
/// huge pages inside it (at least one, as [`THRESHOLD`] spans two), or `None` when it is null
/// or below [`THRESHOLD`].
#[cfg(any(target_os = "linux", test))]
fn advised_range(address: usize, len: usize) -> Option<(usize, usize)> {
    if len < THRESHOLD || address == 0 {
        return None;
    }
    let start = address.next_multiple_of(HUGE_PAGE);
    let end = (address + len) / HUGE_PAGE * HUGE_PAGE;
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping of `/proc/self/smaps` that holds `address`.
    #[cfg(target_os = "linux")]
    fn vm_flags_at(address: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().and_then(|r| {
                let (start, end) = r.split_once('-')?;
                Some((
                    usize::from_str_radix(start, 16).ok()?,
                    usize::from_str_radix(end, 16).ok()?,
                ))
            });
            if let Some((start, end)) = range {
                inside = (start..end).contains(&address);
            } else if let (true, Some(flags)) = (inside, line.strip_prefix("VmFlags:")) {
                return Some(flags.trim().to_string());
            }
        }
        None
    }

    #[test]
    fn large_allocations_keep_their_contents_through_realloc() {
        let layout = Layout::from_size_align(2 * THRESHOLD, 64).unwrap();
        // SAFETY: the layout has a non-zero size; every access below stays inside the
        // allocation, which is freed once with the layout it has then.
        unsafe {
            let ptr = HugePageAlloc.alloc_zeroed(layout);
            assert!(!ptr.is_null());
            let bytes = std::slice::from_raw_parts_mut(ptr, layout.size());
            assert!(bytes.iter().all(|&b| b == 0));
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = (i % 251) as u8;
            }
            #[cfg(target_os = "linux")]
            if std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
                let inside = (ptr as usize).next_multiple_of(HUGE_PAGE);
                let flags = vm_flags_at(inside).expect("the allocation is mapped");
                assert!(
                    flags.split_whitespace().any(|f| f == "hg"),
                    "no huge-page advice on the allocation: VmFlags {flags}"
                );
            }
            let grown = HugePageAlloc.realloc(ptr, layout, 3 * THRESHOLD);
            assert!(!grown.is_null());
            let bytes = std::slice::from_raw_parts(grown, layout.size());
            assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
            HugePageAlloc.dealloc(grown, Layout::from_size_align(3 * THRESHOLD, 64).unwrap());
        }
    }

    #[test]
    fn only_whole_huge_pages_of_large_allocations_are_advised() {
        let page = HUGE_PAGE;
        // Below the threshold, or null: nothing.
        assert_eq!(advised_range(8 * page, THRESHOLD - 1), None);
        assert_eq!(advised_range(0, 2 * THRESHOLD), None);
        // Aligned: every huge page of it.
        assert_eq!(
            advised_range(8 * page, THRESHOLD),
            Some((8 * page, 8 * page + THRESHOLD))
        );
        // Unaligned: the partial pages at both ends are left out.
        assert_eq!(
            advised_range(8 * page + 4096, THRESHOLD),
            Some((9 * page, 10 * page))
        );
        assert_eq!(
            advised_range(8 * page + 4096, THRESHOLD + page),
            Some((9 * page, 11 * page))
        );
    }
}
