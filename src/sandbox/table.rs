//! A table of one kind of entity, in the order they were made, found by the merchant's number
//! (`out_trade_no`, `out_refund_no`, …; unique per merchant) or by WeChat Pay's id.

use std::collections::HashMap;

/// What a table needs to know of its rows.
pub(crate) trait Row {
    /// The merchant's number of the entity.
    fn number(&self) -> &str;
    /// The merchant it belongs to (the sub-merchant of a partner).
    fn merchant(&self) -> &str;
    /// The sequence number of its last change.
    fn seq(&self) -> u64;
}

/// Rows, with their indexes.
pub(crate) struct Table<T> {
    rows: Vec<T>,
    by_number: HashMap<String, Vec<usize>>,
    by_id: HashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            by_number: HashMap::new(),
            by_id: HashMap::new(),
        }
    }
}

impl<T: Row> Table<T> {
    /// Adds a row; returns its index.
    pub(crate) fn insert(&mut self, row: T) -> usize {
        let index = self.rows.len();
        self.by_number
            .entry(row.number().to_owned())
            .or_default()
            .push(index);
        self.rows.push(row);
        index
    }

    /// Makes `id` find the row at `index`.
    pub(crate) fn index_id(&mut self, index: usize, id: &str) {
        self.by_id.insert(id.to_owned(), index);
    }

    /// The row of `number`, of `merchant` when given; with no merchant given, the newest row
    /// of that number.
    pub(crate) fn find(&self, number: &str, merchant: Option<&str>) -> Option<usize> {
        let indexes = self.by_number.get(number)?;
        indexes
            .iter()
            .rev()
            .copied()
            .find(|index| merchant.is_none_or(|merchant| self.rows[*index].merchant() == merchant))
    }

    /// How many rows have `number` (from any merchant).
    pub(crate) fn count(&self, number: &str) -> usize {
        self.by_number.get(number).map_or(0, Vec::len)
    }

    /// The row WeChat Pay's `id` names.
    pub(crate) fn find_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub(crate) fn get(&self, index: usize) -> &T {
        &self.rows[index]
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> &mut T {
        &mut self.rows[index]
    }

    /// The rows, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.rows.iter()
    }

    /// The rows changed after `since`, oldest first.
    pub(crate) fn since(&self, since: u64) -> impl Iterator<Item = &T> {
        self.rows.iter().filter(move |row| row.seq() > since)
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
}
