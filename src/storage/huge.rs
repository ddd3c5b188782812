//! Fixed-length arrays for the hash tables' own structure (bucket arrays and node chunks), backed by
//! transparent huge pages once the data set is large.
//!
//! Why: at ten million keys a GET reads a bucket and a node somewhere in most of a gigabyte. With
//! 4 KiB pages nearly every such read also misses the TLB, and the page walk is one more dependent
//! cache miss. With 2 MiB pages the page tables of the whole table fit in cache.
//!
//! Why only these arrays: an earlier attempt (reverted in 092604c) gave the whole heap huge pages.
//! Values rewritten over and over (`SET -d 10000` on a large keyspace) then made jemalloc purge and
//! the kernel fault back in whole zeroed 2 MiB pages: 30% slower writes and 5x the p99. Bucket arrays
//! and node chunks are allocated once per table growth and freed only when a table shrinks, so they
//! do not churn.
//!
//! How: power-of-two arrays of [`MIN_BLOCK`] bytes up to 1 MiB are carved from 2 MiB-aligned regions
//! mapped for one block size each; larger ones get a mapping of their own. A region mapped while
//! `used_memory` is past [`THRESHOLD`] is advised `MADV_HUGEPAGE` (which acts where the kernel's THP
//! mode is `madvise`, the usual default). Below it, regions keep 4 KiB pages, so a small server's RSS
//! holds only what it touches. A region whose blocks are all free is unmapped, except one per block
//! size kept for the next growth. Everything else (small arrays, sizes that are not a power of two,
//! other platforms) comes from the global allocator. Pool blocks count in `used_memory`.

use std::alloc::Layout;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// The smallest array served from the pool, in bytes.
pub const MIN_BLOCK: usize = 16 << 10;

/// `used_memory` from which new regions are given huge pages.
pub const THRESHOLD: u64 = 64 << 20;

/// Bytes of pool blocks and own mappings in use.
static IN_USE: AtomicU64 = AtomicU64::new(0);
/// Bytes the pool has mapped (regions, used or not, and own mappings).
static MAPPED: AtomicU64 = AtomicU64::new(0);

/// `(in use, mapped)` bytes of the pool, for INFO's allocator figures (jemalloc does not see them).
pub fn stats() -> (u64, u64) {
    (
        IN_USE.load(Ordering::Relaxed),
        MAPPED.load(Ordering::Relaxed),
    )
}

/// A heap array of `len` elements whose length never changes, like `Box<[T]>`, allocated as the
/// module documentation describes.
pub struct HugeArray<T> {
    ptr: NonNull<T>,
    len: usize,
    _owns: PhantomData<T>,
}

// SAFETY: a `HugeArray<T>` owns its elements exactly as `Box<[T]>` does; the pool it may come from is
// behind a mutex.
unsafe impl<T: Send> Send for HugeArray<T> {}
// SAFETY: shared access only hands out `&[T]`.
unsafe impl<T: Sync> Sync for HugeArray<T> {}

impl<T> Default for HugeArray<T> {
    fn default() -> Self {
        HugeArray {
            ptr: NonNull::dangling(),
            len: 0,
            _owns: PhantomData,
        }
    }
}

impl<T> HugeArray<T> {
    /// An array whose element `i` is `f(i)`.
    pub fn from_fn(len: usize, mut f: impl FnMut(usize) -> T) -> Self {
        let layout = match Layout::array::<T>(len) {
            Ok(l) => l,
            Err(_) => panic!("array of {len} elements overflows the address space"),
        };
        let ptr = allocate(layout, false).cast::<T>();
        /// Drops what was written and frees the block if `f` unwinds.
        struct Partial<T> {
            ptr: NonNull<T>,
            done: usize,
            layout: Layout,
        }
        impl<T> Drop for Partial<T> {
            fn drop(&mut self) {
                // SAFETY: the first `done` elements were written and nothing else refers to them.
                unsafe { drop_and_release(self.ptr, self.done, self.layout) }
            }
        }
        let mut partial = Partial {
            ptr,
            done: 0,
            layout,
        };
        while partial.done < len {
            // SAFETY: `done < len`, within the allocation made for `len` elements.
            unsafe { ptr.as_ptr().add(partial.done).write(f(partial.done)) };
            partial.done += 1;
        }
        std::mem::forget(partial);
        HugeArray {
            ptr,
            len,
            _owns: PhantomData,
        }
    }

    /// An array of `len` copies of `value`.
    pub fn filled(len: usize, value: T) -> Self
    where
        T: Copy,
    {
        Self::from_fn(len, |_| value)
    }

    /// Bytes this array occupies.
    pub fn bytes(&self) -> usize {
        self.len * std::mem::size_of::<T>()
    }
}

impl HugeArray<u32> {
    /// An array of `len` zeros. An array with a mapping of its own is fresh zero pages from the
    /// kernel, so it costs no writes until its elements are: a hash table's new bucket array of many
    /// megabytes is then not filled in one go while a command waits.
    pub fn zeroed(len: usize) -> Self {
        let layout = match Layout::array::<u32>(len) {
            Ok(l) => l,
            Err(_) => panic!("array of {len} elements overflows the address space"),
        };
        HugeArray {
            ptr: allocate(layout, true).cast::<u32>(),
            len,
            _owns: PhantomData,
        }
    }
}

impl<T> std::ops::Deref for HugeArray<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` points at `len` initialised elements we own (dangling and 0 when empty).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> std::ops::DerefMut for HugeArray<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> Drop for HugeArray<T> {
    fn drop(&mut self) {
        // `from_fn` allocated with this layout, so it is valid.
        if let Ok(layout) = Layout::array::<T>(self.len) {
            // SAFETY: the `len` elements are initialised and owned, and nothing refers to them after.
            unsafe { drop_and_release(self.ptr, self.len, layout) }
        }
    }
}

/// Drops the first `len` elements at `ptr` and frees the block `allocate(layout)` gave.
///
/// # Safety
/// Those elements are initialised and nothing uses them or the block afterwards.
unsafe fn drop_and_release<T>(ptr: NonNull<T>, len: usize, layout: Layout) {
    // SAFETY: per this function's contract.
    unsafe {
        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), len));
        release(ptr.cast(), layout);
    }
}

/// Whether `layout` is served by the pool (the same answer at allocation and at release).
#[inline]
fn pooled(layout: Layout) -> bool {
    cfg!(target_os = "linux")
        && layout.size() >= MIN_BLOCK
        && layout.size().is_power_of_two()
        && layout.align() <= 4096
}

/// A block for `layout`, all zero bytes if `zero`.
fn allocate(layout: Layout, zero: bool) -> NonNull<u8> {
    if layout.size() == 0 {
        // SAFETY: an alignment is never zero.
        return unsafe { NonNull::new_unchecked(layout.align() as *mut u8) };
    }
    let p = if pooled(layout) {
        pool::alloc(layout.size(), zero)
    } else if zero {
        // SAFETY: the size is not zero.
        unsafe { std::alloc::alloc_zeroed(layout) }
    } else {
        // SAFETY: the size is not zero.
        unsafe { std::alloc::alloc(layout) }
    };
    match NonNull::new(p) {
        Some(p) => p,
        None => std::alloc::handle_alloc_error(layout),
    }
}

/// # Safety
/// `ptr` must come from `allocate(layout)` with this same layout, and not be used again.
unsafe fn release(ptr: NonNull<u8>, layout: Layout) {
    if layout.size() == 0 {
        return;
    }
    if pooled(layout) {
        pool::free(ptr.as_ptr(), layout.size());
    } else {
        // SAFETY: per this function's contract.
        unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) }
    }
}

#[cfg(target_os = "linux")]
mod pool {
    use std::collections::BTreeMap;
    use std::sync::atomic::Ordering;

    use parking_lot::Mutex;

    use super::MIN_BLOCK;

    pub(super) const REGION: usize = 2 << 20;
    /// Block sizes MIN_BLOCK, 2 * MIN_BLOCK, ... REGION / 2 share regions; larger ones map their own.
    const CLASSES: usize = (REGION / 2 / MIN_BLOCK).trailing_zeros() as usize + 1;

    pub(super) struct Pool {
        /// Free blocks of each size class, by address.
        free: [Vec<usize>; CLASSES],
        /// Regions whose blocks are all free, per class (at most one is kept).
        empty: [u32; CLASSES],
        /// Blocks in use in each region, by the region's address.
        live: BTreeMap<usize, u32>,
    }

    static POOL: Mutex<Pool> = Mutex::new(Pool::new());

    fn class(size: usize) -> usize {
        (size / MIN_BLOCK).trailing_zeros() as usize
    }

    /// Whether new mappings get huge pages: once the data set is large (see [`super::THRESHOLD`]).
    fn wants_huge() -> bool {
        crate::alloc::used_memory().unwrap_or(0) >= super::THRESHOLD
    }

    /// Maps `len` bytes (a multiple of `REGION`) aligned to `REGION`, advised for huge pages if
    /// `huge`. Null if the kernel refuses.
    pub(super) fn map(len: usize, huge: bool) -> *mut u8 {
        let want = len + REGION;
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                want,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        super::MAPPED.fetch_add(len as u64, Ordering::Relaxed);
        let start = p as usize;
        let aligned = start.next_multiple_of(REGION);
        // SAFETY: both trimmed ranges lie inside the mapping just made and nothing refers to them.
        unsafe {
            if aligned > start {
                libc::munmap(p, aligned - start);
            }
            let tail = start + want - (aligned + len);
            if tail > 0 {
                libc::munmap((aligned + len) as *mut libc::c_void, tail);
            }
        }
        if huge {
            // SAFETY: advice on our own fresh mapping; it changes only how the kernel backs it, and a
            // refusal (THP disabled, an old kernel) leaves it as it was.
            unsafe { libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
        }
        aligned as *mut u8
    }

    pub(super) fn unmap(p: usize, len: usize) {
        super::MAPPED.fetch_sub(len as u64, Ordering::Relaxed);
        // SAFETY: `p..p+len` is a mapping made by `map` that nothing refers to any more.
        unsafe { libc::munmap(p as *mut libc::c_void, len) };
    }

    impl Pool {
        pub(super) const fn new() -> Self {
            Pool {
                free: [const { Vec::new() }; CLASSES],
                empty: [0; CLASSES],
                live: BTreeMap::new(),
            }
        }

        /// A block of `size` bytes (a power of two, at least `MIN_BLOCK`, at most `REGION / 2`);
        /// a region mapped for it gets huge pages if `huge`.
        pub(super) fn alloc(&mut self, size: usize, huge: bool) -> *mut u8 {
            let c = class(size);
            let block = match self.free[c].pop() {
                Some(b) => b,
                None => {
                    let region = map(REGION, huge) as usize;
                    if region == 0 {
                        return std::ptr::null_mut();
                    }
                    // Lowest address last, so it is handed out first.
                    self.free[c].extend((0..REGION / size).rev().map(|i| region + i * size));
                    self.live.insert(region, 0);
                    self.empty[c] += 1;
                    match self.free[c].pop() {
                        Some(b) => b,
                        None => return std::ptr::null_mut(),
                    }
                }
            };
            let live = self.live.entry(block & !(REGION - 1)).or_insert(0);
            *live += 1;
            if *live == 1 {
                self.empty[c] -= 1;
            }
            block as *mut u8
        }

        /// Takes back a block `alloc(size)` returned; unmaps its region if that leaves the region
        /// free and another free region of the class is kept already.
        pub(super) fn free(&mut self, p: *mut u8, size: usize) {
            let c = class(size);
            let region = p as usize & !(REGION - 1);
            self.free[c].push(p as usize);
            let live = self.live.entry(region).or_insert(1);
            *live -= 1;
            if *live > 0 {
                return;
            }
            if self.empty[c] == 0 {
                self.empty[c] = 1;
                return;
            }
            self.live.remove(&region);
            self.free[c].retain(|&b| b & !(REGION - 1) != region);
            unmap(region, REGION);
        }

        #[cfg(test)]
        pub(super) fn regions(&self) -> usize {
            self.live.len()
        }
    }

    /// A block of `size` bytes, zero bytes if `zero` (an own mapping is zero already; a pool block
    /// may have been used before).
    pub(super) fn alloc(size: usize, zero: bool) -> *mut u8 {
        let huge = wants_huge();
        let p = if size > REGION / 2 {
            map(size, huge)
        } else {
            let p = POOL.lock().alloc(size, huge);
            if zero && !p.is_null() {
                // SAFETY: `p` is a block of `size` bytes just handed to us.
                unsafe { std::ptr::write_bytes(p, 0, size) };
            }
            p
        };
        if !p.is_null() {
            crate::alloc::account_external(size as i64);
            super::IN_USE.fetch_add(size as u64, Ordering::Relaxed);
        }
        p
    }

    pub(super) fn free(p: *mut u8, size: usize) {
        crate::alloc::account_external(-(size as i64));
        super::IN_USE.fetch_sub(size as u64, Ordering::Relaxed);
        if size > REGION / 2 {
            unmap(p as usize, size);
        } else {
            POOL.lock().free(p, size);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod pool {
    pub(super) fn alloc(_size: usize, _zero: bool) -> *mut u8 {
        unreachable!("the pool serves nothing off Linux")
    }

    pub(super) fn free(_p: *mut u8, _size: usize) {
        unreachable!("the pool serves nothing off Linux")
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// `VmFlags` of the mapping that holds `addr`, from /proc/self/smaps.
    fn vm_flags(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((a, b)) = range.split_once('-') {
                    if let (Ok(a), Ok(b)) =
                        (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                    {
                        inside = a <= addr && addr < b;
                        continue;
                    }
                }
            }
            if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return flags.trim().to_string();
                }
            }
        }
        String::new()
    }

    #[test]
    fn zeroed_arrays_are_zero_whatever_the_block_held_before() {
        // Global allocator, pool block, own mapping.
        for len in [100, MIN_BLOCK / 4 * 2, (4 << 20) / 4] {
            for _ in 0..3 {
                let dirty = HugeArray::<u32>::filled(len, u32::MAX);
                drop(dirty);
                let a = HugeArray::<u32>::zeroed(len);
                assert_eq!(a.len(), len);
                assert!(a.iter().all(|&v| v == 0), "len {len}");
            }
        }
        assert!(HugeArray::<u32>::zeroed(0).is_empty());
    }

    #[test]
    fn arrays_keep_their_contents_and_drop_their_elements() {
        let counter = std::sync::Arc::new(());
        for len in [0, 1, 1000, MIN_BLOCK / 8, MIN_BLOCK / 8 * 4, (4 << 20) / 8] {
            let mut a = HugeArray::from_fn(len, |i| (i as u64, counter.clone()));
            assert_eq!(a.len(), len);
            assert!(a.iter().enumerate().all(|(i, (v, _))| *v == i as u64));
            if len > 0 {
                a[len - 1].0 = 7;
                assert_eq!(a[len - 1].0, 7);
            }
            assert_eq!(std::sync::Arc::strong_count(&counter), len + 1);
            drop(a);
            assert_eq!(std::sync::Arc::strong_count(&counter), 1);
        }
    }

    fn has_huge_pages_advice(addr: usize) -> bool {
        vm_flags(addr).split(' ').any(|f| f == "hg")
    }

    #[test]
    fn regions_and_own_mappings_get_huge_pages_when_asked() {
        let mut p = pool::Pool::new();
        let huge = p.alloc(MIN_BLOCK, true);
        assert!(
            has_huge_pages_advice(huge as usize),
            "{}",
            vm_flags(huge as usize)
        );
        let small = p.alloc(MIN_BLOCK * 2, false);
        assert!(!has_huge_pages_advice(small as usize));
        p.free(huge, MIN_BLOCK);
        p.free(small, MIN_BLOCK * 2);
        let own = pool::map(4 << 20, true);
        assert!((own as usize).is_multiple_of(pool::REGION));
        assert!(has_huge_pages_advice(own as usize));
        pool::unmap(own as usize, 4 << 20);
    }

    /// Below [`THRESHOLD`] of data (a test binary counts none) the arrays keep small pages.
    #[test]
    fn a_small_data_set_keeps_small_pages() {
        let big = HugeArray::<u8>::filled(4 << 20, 1);
        assert!((big.as_ptr() as usize).is_multiple_of(pool::REGION));
        assert!(!has_huge_pages_advice(big.as_ptr() as usize));
        assert!(big.iter().all(|&b| b == 1));
    }

    #[test]
    fn free_regions_are_returned_but_one() {
        let mut p = pool::Pool::new();
        let size = MIN_BLOCK * 2;
        // 300 blocks of 32 KiB: five regions of 64.
        let blocks: Vec<*mut u8> = (0..300).map(|_| p.alloc(size, false)).collect();
        assert!(blocks
            .iter()
            .all(|b| !b.is_null() && (*b as usize).is_multiple_of(size)));
        let distinct: std::collections::HashSet<_> = blocks.iter().collect();
        assert_eq!(distinct.len(), 300);
        assert_eq!(p.regions(), 5);
        for &b in &blocks {
            p.free(b, size);
        }
        assert_eq!(
            p.regions(),
            1,
            "one free region is kept for the next growth"
        );
        // The kept region serves again without a new mapping.
        let again = p.alloc(size, false);
        assert_eq!(p.regions(), 1);
        p.free(again, size);
    }
}
