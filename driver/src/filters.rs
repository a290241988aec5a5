//! Fixed-capacity filter containers (no allocation): a small MAC list and a VLAN
//! bitmap.

/// An Ethernet address.
pub type Mac = [u8; 6];

/// True for a unicast address that is not all-zero (what the PF accepts as a MAC
/// filter, hw-contract 5.5).
pub fn is_valid_unicast(m: &Mac) -> bool {
    m[0] & 1 == 0 && *m != [0; 6]
}

/// True for a multicast (group) address other than broadcast.
pub fn is_multicast(m: &Mac) -> bool {
    m[0] & 1 != 0 && *m != [0xFF; 6]
}

/// A list of at most `N` distinct MAC addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacList<const N: usize> {
    len: u8,
    addrs: [Mac; N],
}

impl<const N: usize> Default for MacList<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> MacList<N> {
    pub const CAPACITY: usize = N;

    pub const fn new() -> Self {
        MacList {
            len: 0,
            addrs: [[0; 6]; N],
        }
    }

    pub fn len(&self) -> usize {
        (self.len as usize).min(N)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_slice(&self) -> &[Mac] {
        self.addrs.get(..self.len()).unwrap_or(&[])
    }

    pub fn contains(&self, m: &Mac) -> bool {
        self.as_slice().iter().any(|a| a == m)
    }

    /// Add `m` unless present. Err(()) when full.
    #[allow(clippy::result_unit_err)]
    pub fn insert(&mut self, m: Mac) -> Result<(), ()> {
        if self.contains(&m) {
            return Ok(());
        }
        let i = self.len();
        match self.addrs.get_mut(i) {
            Some(slot) if i < u8::MAX as usize => {
                *slot = m;
                self.len += 1;
                Ok(())
            }
            _ => Err(()),
        }
    }

    /// Remove `m` if present; returns whether it was.
    pub fn remove(&mut self, m: &Mac) -> bool {
        let n = self.len();
        if let Some(i) = self.as_slice().iter().position(|a| a == m) {
            self.addrs.copy_within(i + 1..n, i);
            self.len -= 1;
            true
        } else {
            false
        }
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// The set of VLAN ids 1..=4095 as a 4096-bit bitmap (bit 0 unused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanSet {
    bits: [u64; 64],
    count: u16,
}

impl Default for VlanSet {
    fn default() -> Self {
        Self::new()
    }
}

impl VlanSet {
    pub const fn new() -> Self {
        VlanSet {
            bits: [0; 64],
            count: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn pos(vid: u16) -> (usize, u64) {
        let v = (vid & 0xFFF) as usize;
        (v / 64, 1u64 << (v % 64))
    }

    pub fn contains(&self, vid: u16) -> bool {
        if vid == 0 || vid > 4095 {
            return false;
        }
        let (w, b) = Self::pos(vid);
        self.bits.get(w).is_some_and(|x| x & b != 0)
    }

    /// Insert `vid` (1..=4095); returns true if it was not present.
    pub fn insert(&mut self, vid: u16) -> bool {
        if vid == 0 || vid > 4095 || self.contains(vid) {
            return false;
        }
        let (w, b) = Self::pos(vid);
        if let Some(x) = self.bits.get_mut(w) {
            *x |= b;
            self.count += 1;
            return true;
        }
        false
    }

    /// Remove `vid`; returns true if it was present.
    pub fn remove(&mut self, vid: u16) -> bool {
        if !self.contains(vid) {
            return false;
        }
        let (w, b) = Self::pos(vid);
        if let Some(x) = self.bits.get_mut(w) {
            *x &= !b;
            self.count -= 1;
            return true;
        }
        false
    }

    /// Copy the ids in ascending order into `out`; returns how many were written.
    pub fn fill(&self, out: &mut [u16]) -> usize {
        let mut n = 0;
        for (w, word) in self.bits.iter().enumerate() {
            let mut x = *word;
            while x != 0 {
                let bit = x.trailing_zeros() as usize;
                x &= x - 1;
                match out.get_mut(n) {
                    Some(slot) => *slot = (w * 64 + bit) as u16,
                    None => return n,
                }
                n += 1;
            }
        }
        n
    }

    pub fn clear(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_list() {
        let mut l: MacList<2> = MacList::new();
        let a = [1, 0, 0x5e, 0, 0, 1];
        let b = [1, 0, 0x5e, 0, 0, 2];
        let c = [1, 0, 0x5e, 0, 0, 3];
        assert!(l.insert(a).is_ok());
        assert!(l.insert(a).is_ok());
        assert_eq!(l.len(), 1);
        assert!(l.insert(b).is_ok());
        assert!(l.insert(c).is_err());
        assert!(l.remove(&a));
        assert!(!l.remove(&a));
        assert_eq!(l.as_slice(), &[b]);
    }

    #[test]
    fn vlan_set() {
        let mut s = VlanSet::new();
        assert!(!s.insert(0));
        assert!(!s.insert(4096));
        assert!(s.insert(4095));
        assert!(s.insert(1));
        assert!(s.insert(100));
        assert!(!s.insert(100));
        assert_eq!(s.len(), 3);
        let mut out = [0u16; 8];
        assert_eq!(s.fill(&mut out), 3);
        assert_eq!(&out[..3], &[1, 100, 4095]);
        let mut small = [0u16; 2];
        assert_eq!(s.fill(&mut small), 2);
        assert!(s.remove(100));
        assert!(!s.remove(100));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn mac_kinds() {
        assert!(is_valid_unicast(&[2, 0, 0, 0, 0, 1]));
        assert!(!is_valid_unicast(&[0; 6]));
        assert!(!is_valid_unicast(&[1, 0, 0x5e, 0, 0, 1]));
        assert!(is_multicast(&[1, 0, 0x5e, 0, 0, 1]));
        assert!(!is_multicast(&[0xFF; 6]));
    }
}
