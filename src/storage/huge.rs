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
//!
//! The price of huge pages is their first touch: the kernel zeroes 2 MiB in one page fault, which
//! took 4.5 ms on the test VM (ZADD into a 2M-member sorted set logged a dozen such SLOWLOG
//! entries, and none with THP off). So new memory is faulted in on the background thread before a
//! command writes to it: each size class keeps a spare region faulted in ahead ([`pool`]), and
//! [`HugeArray::zeroed_prefaulted`] gives a hash table its next big bucket array the same way (see
//! `Dict`'s prepared resizes).

use std::alloc::Layout;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// The smallest array served from the pool, in bytes.
pub const MIN_BLOCK: usize = 16 << 10;

/// `used_memory` from which new regions are given huge pages.
pub const THRESHOLD: u64 = 64 << 20;

/// The pool's region size (one huge page); arrays above half of it get a mapping of their own.
const REGION: usize = 2 << 20;

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
        let ptr = allocate(layout, Fill::Any).cast::<T>();
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

/// Whether an array of `bytes` gets a mapping of its own (rather than a block of a shared region):
/// such an array is faulted in by whoever first writes to each of its pages.
pub fn own_mapping(bytes: usize) -> bool {
    cfg!(target_os = "linux") && bytes > REGION / 2 && bytes.is_power_of_two()
}

/// Faults in the `len` bytes at `p` for writing without changing them (`MADV_POPULATE_WRITE`,
/// Linux 5.14), or where the kernel lacks that, by writing a zero into each page.
///
/// # Safety
/// `p..p + len` is memory of ours that holds zeros and that no other thread uses meanwhile.
#[cfg(target_os = "linux")]
unsafe fn prefault(p: *mut u8, len: usize) {
    // SAFETY: the advice only populates page tables of our own mapping; contents are unchanged.
    let r = unsafe { libc::madvise(p.cast(), len, libc::MADV_POPULATE_WRITE) };
    if r != 0 {
        for off in (0..len).step_by(4096) {
            // SAFETY: within the range, which holds zeros and is ours alone (per the contract).
            unsafe { p.add(off).write_volatile(0) };
        }
    }
}

impl HugeArray<u32> {
    /// An array of `len` zeros. An array with a mapping of its own is fresh zero pages from the
    /// kernel, so it costs no writes until its elements are: a hash table's new bucket array of many
    /// megabytes is then not filled in one go while a command waits.
    pub fn zeroed(len: usize) -> Self {
        Self::zeroed_as(len, Fill::Zero)
    }

    /// [`HugeArray::zeroed`] with every page already faulted in, for a background thread to prepare
    /// an array a command will write to all over (a hash table's next bucket array).
    pub fn zeroed_prefaulted(len: usize) -> Self {
        Self::zeroed_as(len, Fill::ZeroFaultedIn)
    }

    fn zeroed_as(len: usize, fill: Fill) -> Self {
        let layout = match Layout::array::<u32>(len) {
            Ok(l) => l,
            Err(_) => panic!("array of {len} elements overflows the address space"),
        };
        HugeArray {
            ptr: allocate(layout, fill).cast::<u32>(),
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

/// What a new block must hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Anything: the caller writes every element.
    Any,
    /// Zero bytes.
    Zero,
    /// Zero bytes, with every page faulted in (by a background thread: see the module doc).
    ZeroFaultedIn,
}

/// A block for `layout`, holding what `fill` says.
fn allocate(layout: Layout, fill: Fill) -> NonNull<u8> {
    if layout.size() == 0 {
        // SAFETY: an alignment is never zero.
        return unsafe { NonNull::new_unchecked(layout.align() as *mut u8) };
    }
    let p = if pooled(layout) {
        pool::alloc(layout.size(), fill)
    } else if fill != Fill::Any {
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

    use super::{Fill, MIN_BLOCK};

    pub(super) const REGION: usize = super::REGION;
    /// Block sizes MIN_BLOCK, 2 * MIN_BLOCK, ... REGION / 2 share regions; larger ones map their own.
    const CLASSES: usize = (REGION / 2 / MIN_BLOCK).trailing_zeros() as usize + 1;

    pub(super) struct Pool {
        /// Free blocks of each size class, by address.
        free: [Vec<usize>; CLASSES],
        /// Regions whose blocks are all free, per class (at most one is kept).
        empty: [u32; CLASSES],
        /// Blocks in use in each region, by the region's address.
        live: BTreeMap<usize, u32>,
        /// Per class, a huge-page region faulted in ahead on the background thread (0: none), taken
        /// before mapping a new one.
        spare: [usize; CLASSES],
        /// Classes whose spare is being prepared.
        preparing: [bool; CLASSES],
        /// A class that took a new huge-page region and has no spare coming: the caller asks the
        /// background thread for one once the pool's lock is released.
        spare_wanted: Option<usize>,
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
                spare: [0; CLASSES],
                preparing: [false; CLASSES],
                spare_wanted: None,
            }
        }

        /// A block of `size` bytes (a power of two, at least `MIN_BLOCK`, at most `REGION / 2`).
        /// A new region is the class's spare if it has one, else small pages; if `huge`, the class
        /// then wants a spare (see [`Pool::take_spare_wanted`]). So a command never faults a huge
        /// page in: a spare is faulted in on the background thread.
        pub(super) fn alloc(&mut self, size: usize, huge: bool) -> *mut u8 {
            let c = class(size);
            let block = match self.free[c].pop() {
                Some(b) => b,
                None => {
                    let region = match std::mem::take(&mut self.spare[c]) {
                        0 => map(REGION, false) as usize,
                        spare => spare,
                    };
                    if region == 0 {
                        return std::ptr::null_mut();
                    }
                    if huge && !self.preparing[c] {
                        // A class that grew by one region is likely to grow by another.
                        self.preparing[c] = true;
                        self.spare_wanted = Some(c);
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

        /// The class [`Pool::alloc`] last found wanting a spare region, once.
        pub(super) fn take_spare_wanted(&mut self) -> Option<usize> {
            self.spare_wanted.take()
        }

        /// Keeps `region` (mapped with huge pages and faulted in, or 0 if that failed) as class
        /// `c`'s spare.
        pub(super) fn put_spare(&mut self, c: usize, region: usize) {
            self.preparing[c] = false;
            if region == 0 {
                return;
            }
            if self.spare[c] == 0 {
                self.spare[c] = region;
            } else {
                unmap(region, REGION);
            }
        }

        #[cfg(test)]
        pub(super) fn spare(&self, c: usize) -> usize {
            self.spare[c]
        }

        #[cfg(test)]
        pub(super) fn regions(&self) -> usize {
            self.live.len()
        }
    }

    /// A block of `size` bytes holding what `fill` says (an own mapping is zero already; a pool
    /// block may have been used before). An own mapping gets huge pages only if it is faulted in
    /// here, which `Fill::ZeroFaultedIn` asks of a background thread.
    pub(super) fn alloc(size: usize, fill: Fill) -> *mut u8 {
        let huge = wants_huge();
        let p = if size > REGION / 2 {
            map_own(size, huge, fill)
        } else {
            let (p, spare_wanted) = {
                let mut pool = POOL.lock();
                let p = pool.alloc(size, huge);
                (p, pool.take_spare_wanted())
            };
            if let Some(c) = spare_wanted {
                prepare_spare(c);
            }
            if fill != Fill::Any && !p.is_null() {
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

    /// An own mapping of `size` bytes, with huge pages if `huge` and faulted in here.
    pub(super) fn map_own(size: usize, huge: bool, fill: Fill) -> *mut u8 {
        let faulted = fill == Fill::ZeroFaultedIn;
        let p = map(size, huge && faulted);
        if faulted && !p.is_null() {
            // SAFETY: a fresh mapping of zero pages that only this thread knows of.
            unsafe { super::prefault(p, size) };
        }
        p
    }

    /// Maps and faults in a spare huge-page region for class `c` on the background thread.
    fn prepare_spare(c: usize) {
        crate::storage::lazyfree::run_in_background(move || {
            let region = map_own(REGION, true, Fill::ZeroFaultedIn);
            POOL.lock().put_spare(c, region as usize);
        });
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
    pub(super) fn alloc(_size: usize, _fill: super::Fill) -> *mut u8 {
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

    /// Pages of `p..p + len` resident in memory (`mincore`).
    fn resident_pages(p: usize, len: usize) -> usize {
        let mut v = vec![0u8; len.div_ceil(4096)];
        // SAFETY: `p..p + len` is a mapping of ours; `v` has a byte per page.
        let r = unsafe { libc::mincore(p as *mut libc::c_void, len, v.as_mut_ptr()) };
        assert_eq!(r, 0);
        v.iter().filter(|&&b| b & 1 == 1).count()
    }

    #[test]
    fn prefaulting_makes_every_page_resident_and_keeps_zeros() {
        let len = 4 << 20;
        let p = pool::map(len, false);
        assert!(!p.is_null());
        assert_eq!(resident_pages(p as usize, len), 0);
        // SAFETY: a fresh mapping of zeros that only this test uses.
        unsafe { prefault(p, len) };
        assert_eq!(resident_pages(p as usize, len), len / 4096);
        // SAFETY: as above; the mapping holds `len` initialised bytes.
        assert!(unsafe { std::slice::from_raw_parts(p, len) }
            .iter()
            .all(|&b| b == 0));
        pool::unmap(p as usize, len);

        let a = HugeArray::<u32>::zeroed_prefaulted(len / 4);
        assert_eq!(resident_pages(a.as_ptr() as usize, len), len / 4096);
        assert!(a.iter().all(|&v| v == 0));
        // A plain zeroed array is touched only where it is written.
        let b = HugeArray::<u32>::zeroed(len / 4);
        assert_eq!(resident_pages(b.as_ptr() as usize, len), 0);
    }

    /// A command never faults a huge page in: a class's first region in huge mode has small pages,
    /// and its next one is the spare the background thread faulted in.
    #[test]
    fn new_huge_regions_come_faulted_in_from_the_spare() {
        let mut p = pool::Pool::new();
        let per_region = pool::REGION / MIN_BLOCK;
        let first = p.alloc(MIN_BLOCK, true);
        assert!(!has_huge_pages_advice(first as usize));
        assert_eq!(p.take_spare_wanted(), Some(0));
        assert_eq!(p.take_spare_wanted(), None, "asked once");
        // What the background job does.
        let spare = pool::map_own(pool::REGION, true, Fill::ZeroFaultedIn);
        assert_eq!(
            resident_pages(spare as usize, pool::REGION),
            pool::REGION / 4096
        );
        p.put_spare(0, spare as usize);
        assert_eq!(p.spare(0), spare as usize);
        let mut blocks = vec![first];
        blocks.extend((1..per_region).map(|_| p.alloc(MIN_BLOCK, true)));
        assert_eq!(p.spare(0), spare as usize, "the first region still serves");
        let next = p.alloc(MIN_BLOCK, true);
        assert_eq!(next as usize & !(pool::REGION - 1), spare as usize);
        assert!(has_huge_pages_advice(next as usize));
        assert_eq!(p.spare(0), 0);
        assert_eq!(
            p.take_spare_wanted(),
            Some(0),
            "the next spare is asked for"
        );
        blocks.push(next);
        for b in blocks {
            p.free(b, MIN_BLOCK);
        }
        // Below the threshold no spare is wanted.
        let small = p.alloc(MIN_BLOCK * 2, false);
        assert_eq!(p.take_spare_wanted(), None);
        p.free(small, MIN_BLOCK * 2);
    }

    #[test]
    fn own_mappings_get_huge_pages_only_when_faulted_in_off_the_request_path() {
        let len = 4 << 20;
        let own = pool::map(len, true);
        assert!((own as usize).is_multiple_of(pool::REGION));
        assert!(has_huge_pages_advice(own as usize));
        pool::unmap(own as usize, len);
        // In huge mode: an array faulted in ahead gets huge pages, one a command would fault in
        // page by page does not.
        let ahead = pool::map_own(len, true, Fill::ZeroFaultedIn);
        assert!(has_huge_pages_advice(ahead as usize));
        assert_eq!(resident_pages(ahead as usize, len), len / 4096);
        pool::unmap(ahead as usize, len);
        let inline = pool::map_own(len, true, Fill::Zero);
        assert!(!has_huge_pages_advice(inline as usize));
        assert_eq!(resident_pages(inline as usize, len), 0);
        pool::unmap(inline as usize, len);
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
