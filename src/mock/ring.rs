//! A bounded log: the newest entries within a count and a byte budget, the oldest dropped
//! first. The mock's recorded requests and the sandbox's request log and deliveries are kept
//! in one, so that a server that runs for days keeps a flat memory.

use std::collections::VecDeque;

/// What an entry costs: its bytes (bodies, headers), roughly.
pub(crate) trait Weigh {
    /// The bytes this entry holds.
    fn weight(&self) -> usize;
}

/// The newest entries within `max_count` entries and `max_bytes` bytes. The newest entry is
/// always kept, even when it alone is over the byte budget (so that a test can read back the
/// request it just sent).
pub(crate) struct Ring<T> {
    entries: VecDeque<(T, usize)>,
    bytes: usize,
    max_count: usize,
    max_bytes: usize,
    dropped: u64,
}

impl<T: Weigh> Ring<T> {
    /// An empty ring with these limits (a count of 0 is taken as 1).
    pub(crate) fn new(max_count: usize, max_bytes: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
            max_count: max_count.max(1),
            max_bytes,
            dropped: 0,
        }
    }

    /// Adds `entry` as the newest, dropping the oldest ones over the limits.
    pub(crate) fn push(&mut self, entry: T) {
        let weight = entry.weight();
        self.bytes += weight;
        self.entries.push_back((entry, weight));
        self.trim();
    }

    fn trim(&mut self) {
        while self.entries.len() > 1
            && (self.entries.len() > self.max_count || self.bytes > self.max_bytes)
        {
            if let Some((_, weight)) = self.entries.pop_front() {
                self.bytes -= weight;
                self.dropped += 1;
            }
        }
    }

    /// The entries, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.entries.iter().map(|(entry, _)| entry)
    }

    /// Changes the newest entry that `matches` with `change` (its weight counted again), and
    /// returns what `change` returned; `None` when no entry matches (it was dropped).
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub(crate) fn update<R>(
        &mut self,
        matches: impl Fn(&T) -> bool,
        change: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        let (entry, weight) = self.entries.iter_mut().rev().find(|(e, _)| matches(e))?;
        let result = change(entry);
        let new_weight = entry.weight();
        self.bytes = self.bytes - *weight + new_weight;
        *weight = new_weight;
        self.trim();
        Some(result)
    }

    /// How many entries were dropped to keep within the limits, since the start.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The bytes held now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Takes every entry out, oldest first.
    pub(crate) fn take(&mut self) -> Vec<T> {
        self.bytes = 0;
        self.entries.drain(..).map(|(entry, _)| entry).collect()
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Weigh for Vec<u8> {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    #[test]
    fn keeps_the_newest_within_count_and_bytes() {
        let mut ring = Ring::new(3, 10);
        for n in 0..5u8 {
            ring.push(vec![n; 2]);
        }
        let kept: Vec<u8> = ring.iter().map(|entry| entry[0]).collect();
        assert_eq!(kept, [2, 3, 4]);
        assert_eq!(ring.dropped(), 2);
        ring.push(vec![9; 7]);
        let kept: Vec<u8> = ring.iter().map(|entry| entry[0]).collect();
        assert_eq!(kept, [4, 9], "9 bytes within 10");
        ring.push(vec![8; 50]);
        assert_eq!(
            ring.len(),
            1,
            "the newest is kept even when over the budget"
        );
        assert_eq!(ring.bytes(), 50);
    }

    #[test]
    fn an_update_is_weighed_again() {
        let mut ring = Ring::new(10, 10);
        ring.push(vec![1; 4]);
        ring.push(vec![2; 4]);
        let found = ring.update(|entry| entry[0] == 2, |entry| entry.extend([2; 4]));
        assert_eq!(found, Some(()));
        assert_eq!(ring.len(), 1, "the older entry made room");
        assert_eq!(ring.update(|entry| entry[0] == 1, |_| ()), None);
        assert_eq!(ring.take().len(), 1);
        assert_eq!(ring.bytes(), 0);
    }
}
