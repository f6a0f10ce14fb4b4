//! A stable insertion sort for the few entries of a per-port list. The standard library's
//! sort (driftsort) adds about 3 KB of code to the image for a single call site; for a handful
//! of ports the quadratic worst case does not matter.

/// Sorts `items` by `key`, keeping the order of equal keys (like `slice::sort_by_key`).
///
/// ```
/// let mut ports = [(2, 'c'), (0, 'a'), (1, 'b'), (0, 'z')];
/// sanboot::small_sort::sort_by_key(&mut ports, |p| p.0);
/// assert_eq!(ports, [(0, 'a'), (0, 'z'), (1, 'b'), (2, 'c')]);
/// ```
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    for k in 1..items.len() {
        let mut j = k;
        while j > 0 && key(&items[j - 1]) > key(&items[j]) {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sort_by_key;
    use proptest::prelude::*;

    proptest! {
        /// Same result as the standard library's stable sort, ties included.
        #[test]
        fn matches_std_stable_sort(v in proptest::collection::vec((0u8..4, any::<u16>()), 0..24)) {
            let mut ours = v.clone();
            sort_by_key(&mut ours, |e| e.0);
            let mut std_sorted = v;
            std_sorted.sort_by_key(|e| e.0);
            prop_assert_eq!(ours, std_sorted);
        }
    }
}
