//! A small map from a transfer to its state. A host runs a handful of transfers, and
//! every chunk in or out looks its transfer up: a scan of a short list is cheaper than
//! hashing the key (SipHash) once per datagram.

use peerchat_proto::transfer::TransferKey;

/// Values by transfer; see the module documentation.
pub(super) struct Keyed<T>(Vec<(TransferKey, T)>);

impl<T> Keyed<T> {
    pub(super) fn new() -> Keyed<T> {
        Keyed(Vec::new())
    }

    pub(super) fn get(&self, key: &TransferKey) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(super) fn get_mut(&mut self, key: &TransferKey) -> Option<&mut T> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`'s value, replacing (and dropping) any it had.
    pub(super) fn insert(&mut self, key: TransferKey, value: T) {
        match self.get_mut(&key) {
            Some(old) => *old = value,
            None => self.0.push((key, value)),
        }
    }

    pub(super) fn remove(&mut self, key: &TransferKey) -> Option<T> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(at).1)
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use peerchat_proto::transfer::Role;
    use peerchat_proto::wire::{PeerId, TransferId};

    use super::*;

    fn key(id: u32, role: Role) -> TransferKey {
        TransferKey {
            peer: PeerId(1),
            id: TransferId(id),
            role,
        }
    }

    #[test]
    fn values_are_found_replaced_and_removed_by_their_whole_key() {
        let mut map = Keyed::new();
        map.insert(key(1, Role::Send), "a");
        map.insert(key(1, Role::Receive), "b");
        map.insert(key(1, Role::Send), "c");
        assert_eq!(map.get(&key(1, Role::Send)), Some(&"c"));
        assert_eq!(map.get(&key(1, Role::Receive)), Some(&"b"));
        assert_eq!(map.get(&key(2, Role::Send)), None);
        assert_eq!(map.remove(&key(1, Role::Send)), Some("c"));
        assert_eq!(map.remove(&key(1, Role::Send)), None);
        *map.get_mut(&key(1, Role::Receive)).unwrap() = "d";
        assert_eq!(map.values_mut().map(|v| *v).collect::<Vec<_>>(), ["d"]);
    }
}
