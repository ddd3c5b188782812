//! Transparent huge pages for a large data set.
//!
//! At ten million keys a GET touches a bucket and a node somewhere in most of a gigabyte. With 4 KiB
//! pages nearly every such access misses the TLB as well as the cache, and the page walk is one more
//! dependent miss. Backing the heap with 2 MiB pages removes most of those walks: jemalloc's
//! `thp:always` made GET -P 16 at 10M keys 14% faster and SET 8%. But it cost a small server 17 MB
//! more RSS at start and 21% more at a million keys, since every partly used 2 MiB region is then
//! backed whole.
//!
//! So huge pages are asked for only once the data set is large: when `used_memory` passes
//! [`THRESHOLD`], the cron advises the kernel (`madvise(MADV_HUGEPAGE)`) to back the process's large
//! anonymous mappings (jemalloc's) with huge pages, and keeps doing so for mappings that appear later.
//! Memory first touched after the advice gets huge pages; what was touched before stays as it is
//! until the kernel's `khugepaged` collapses it. The advice matters where the kernel's THP mode is
//! `madvise` (the usual default); with `always` the kernel does this anyway, with `never` nothing
//! happens. Redis warns against THP because its fork-based saves copy whole huge pages on write;
//! Ferrite does not fork.

/// `used_memory` above which huge pages are asked for.
pub const THRESHOLD: u64 = 128 << 20;

/// Mappings smaller than this are left alone (thread stacks are 2 MiB and mostly untouched).
#[cfg(target_os = "linux")]
const MIN_MAPPING: usize = 4 << 20;

#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// The cron's huge-page advisor: remembers what it advised so each mapping is advised once.
#[derive(Default)]
pub struct Advisor {
    #[cfg(target_os = "linux")]
    advised: std::collections::HashSet<(usize, usize)>,
}

impl Advisor {
    /// Advises the large anonymous mappings not advised yet, if `used_memory` is past the threshold.
    /// Returns how many mappings were advised now.
    pub fn tick(&mut self, used_memory: u64) -> usize {
        if used_memory < THRESHOLD {
            return 0;
        }
        self.advise_new()
    }

    #[cfg(target_os = "linux")]
    fn advise_new(&mut self) -> usize {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return 0;
        };
        let mut n = 0;
        for (start, end) in maps.lines().filter_map(anonymous_rw) {
            if end - start < MIN_MAPPING || !self.advised.insert((start, end)) {
                continue;
            }
            // The 2 MiB-aligned part of the mapping: only whole huge pages can be backed.
            let from = start.next_multiple_of(HUGE_PAGE);
            let to = end / HUGE_PAGE * HUGE_PAGE;
            if to > from {
                // The advised part becomes a mapping of its own: remember it too.
                self.advised.insert((from, to));
                // SAFETY: madvise with MADV_HUGEPAGE only changes how the kernel backs these pages
                // (their contents stay as they are); the range lies within one of our own mappings,
                // and a failure (an old kernel, THP disabled) leaves everything as it was.
                unsafe {
                    libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
                }
                n += 1;
            }
        }
        n
    }

    #[cfg(not(target_os = "linux"))]
    fn advise_new(&mut self) -> usize {
        0
    }
}

/// A `/proc/self/maps` line's range if it is a private, read-write, anonymous mapping (no file, no
/// `[stack]`/`[heap]` name).
#[cfg(target_os = "linux")]
fn anonymous_rw(line: &str) -> Option<(usize, usize)> {
    let mut f = line.split_ascii_whitespace();
    let range = f.next()?;
    let perms = f.next()?;
    let _offset = f.next()?;
    let _dev = f.next()?;
    let inode = f.next()?;
    if perms != "rw-p" || inode != "0" || f.next().is_some() {
        return None;
    }
    let (a, b) = range.split_once('-')?;
    let start = usize::from_str_radix(a, 16).ok()?;
    let end = usize::from_str_radix(b, 16).ok()?;
    (end > start).then_some((start, end))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn picks_anonymous_private_writable_mappings() {
        assert_eq!(
            anonymous_rw("7fb974800000-7fb97c021000 rw-p 00000000 00:00 0 "),
            Some((0x7fb974800000, 0x7fb97c021000))
        );
        assert_eq!(
            anonymous_rw(
                "7ffda5bf9000-7ffda5c1a000 rw-p 00000000 00:00 0                          [stack]"
            ),
            None
        );
        assert_eq!(
            anonymous_rw("55d0c4a00000-55d0c4a4b000 rw-p 00290000 fd:01 1234  /usr/bin/ferrite"),
            None
        );
        assert_eq!(
            anonymous_rw("7fb974800000-7fb97c021000 r--p 00000000 00:00 0"),
            None
        );
    }

    /// The `VmFlags` of the mapping that holds `addr`, from `/proc/self/smaps`.
    fn vm_flags(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((start, end)) = line
                .split_ascii_whitespace()
                .next()
                .and_then(|r| r.split_once('-'))
                .and_then(|(a, b)| {
                    Some((
                        usize::from_str_radix(a, 16).ok()?,
                        usize::from_str_radix(b, 16).ok()?,
                    ))
                })
            {
                inside = (start..end).contains(&addr);
            } else if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return flags.to_string();
                }
            }
        }
        panic!("no mapping holds {addr:#x}");
    }

    /// Below the threshold nothing is advised; above it, a large anonymous mapping of our own is
    /// advised (the kernel marks it `hg`), once.
    #[test]
    fn advises_large_mappings_once_past_the_threshold() {
        let mut a = Advisor::default();
        let region = std::hint::black_box(vec![0u8; 64 << 20]);
        let middle = region.as_ptr() as usize + (32 << 20);
        a.tick(THRESHOLD - 1);
        assert!(!vm_flags(middle).contains(" hg"), "{}", vm_flags(middle));
        assert!(a.tick(THRESHOLD) >= 1);
        // A kernel built without THP refuses the advice; there is nothing to check there.
        if std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            assert!(vm_flags(middle).contains(" hg"), "{}", vm_flags(middle));
        }
        let holding = |a: &Advisor| {
            a.advised
                .iter()
                .filter(|(s, e)| (*s..*e).contains(&middle))
                .count()
        };
        // The mapping as found, and its advised interior (a mapping of its own since).
        assert_eq!(holding(&a), 2);
        a.tick(THRESHOLD);
        assert_eq!(holding(&a), 2, "the advised interior is not advised again");
        drop(region);
    }
}
