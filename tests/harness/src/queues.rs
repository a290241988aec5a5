//! iflib's per-queue software state, mirrored: the TX ring bookkeeping of
//! `struct iflib_txq` (pidx, cidx, gen, in_use, processed, cleaned, rs_pending,
//! db_pending and the per-slot packet table `ifsd_m`) and the RX free list of
//! `struct iflib_fl` (pidx, cidx, credits, the posted-buffer bitmap).
//!
//! TX buffers come from a per-queue byte-ring arena in device-visible memory
//! (freed in order on reclaim, as iflib frees mbufs in ring order); RX buffers are
//! one region of `nrxd` clusters, slot i's cluster at i * buf_size.

use std::collections::VecDeque;

use ravf_sim::mem::{DmaBuf, GuestMemory, HostMemory};
use ravf_sys::{bus_dma_segment, if_rxd_frag, IFLIB_MAX_RX_REFRESH, IFLIB_MAX_RX_SEGS};

/// busdma's gap between the pieces of one packet in the arena, so separate "mbufs"
/// stay separate DMA segments (busdma merges physically contiguous ones).
const PIECE_GAP: usize = 64;

/// Per-TX-queue counters (iflib's `txqN` sysctls, plus what the harness checks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxStats {
    pub packets: u64,
    pub bytes: u64,
    pub descs: u64,
    pub flushes: u64,
    pub rs_requests: u64,
    pub reclaimed: u64,
    /// `txd_encap_efbig`: the driver returned EFBIG.
    pub encap_efbig: u64,
    /// `mbuf_defrag`: the packet was defragmented (busdma or driver EFBIG).
    pub mbuf_defrag: u64,
    /// `mbuf_defrag_failed`: dropped after defragmenting did not help.
    pub mbuf_defrag_failed: u64,
    /// `no_desc_avail`.
    pub no_desc_avail: u64,
    /// Other encap errors (packet dropped).
    pub encap_errors: u64,
}

/// Per-RX-queue counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxStats {
    pub packets: u64,
    pub bytes: u64,
    pub frags: u64,
    pub refills: u64,
    pub flushes: u64,
    /// Interrupts taken on this queue's vector.
    pub irqs: u64,
    /// pkt_get returned an error (iflib: IFC_DO_RESET).
    pub pkt_get_errors: u64,
}

/// A TX byte-ring arena.
pub struct Arena {
    pub buf: DmaBuf,
    head: usize,
    live: VecDeque<(usize, usize)>,
}

impl Arena {
    pub fn new(mem: &HostMemory, len: usize) -> Arena {
        Arena {
            buf: mem.alloc(len, 4096),
            head: 0,
            live: VecDeque::new(),
        }
    }

    fn tail(&self) -> Option<usize> {
        self.live.front().map(|r| r.0)
    }

    /// Reserve `len` contiguous bytes; returns the offset.
    pub fn alloc(&mut self, len: usize) -> Option<usize> {
        let cap = self.buf.len;
        let len = len.next_multiple_of(64);
        if len > cap {
            return None;
        }
        let start = match self.tail() {
            None => {
                self.head = 0;
                0
            }
            Some(t) if self.head > t || (self.head == t && self.live.is_empty()) => {
                if self.head + len <= cap {
                    self.head
                } else if len < t {
                    0
                } else {
                    return None;
                }
            }
            Some(t) => {
                if self.head + len < t {
                    self.head
                } else {
                    return None;
                }
            }
        };
        self.head = start + len;
        self.live.push_back((start, start + len));
        Some(start)
    }

    /// Free the oldest allocation, which must start at `start`.
    pub fn free(&mut self, start: usize) -> bool {
        match self.live.front() {
            Some(&(s, _)) if s == start => {
                self.live.pop_front();
                true
            }
            _ => false,
        }
    }

    /// Undo the newest allocation (a packet that was not sent after all).
    pub fn unalloc(&mut self, start: usize) -> bool {
        match self.live.back() {
            Some(&(s, _)) if s == start => {
                self.live.pop_back();
                self.head = start;
                true
            }
            _ => false,
        }
    }

    pub fn reset(&mut self) {
        self.live.clear();
        self.head = 0;
    }
}

/// One packet's place in the arena, kept in the slot of its first descriptor.
#[derive(Clone, Copy, Debug)]
pub struct TxPkt {
    pub arena_off: usize,
    pub len: usize,
}

/// iflib's `struct iflib_txq`, the parts the driver contract depends on.
pub struct TxRing {
    pub id: u16,
    pub size: u16,
    pub pidx: u16,
    pub cidx: u16,
    pub gen: bool,
    pub in_use: u16,
    pub processed: u64,
    pub cleaned: u64,
    pub rs_pending: u16,
    pub db_pending: u16,
    pub ring: DmaBuf,
    pub arena: Arena,
    pub slots: Vec<Option<TxPkt>>,
    pub segs: Vec<bus_dma_segment>,
    pub stats: TxStats,
}

impl TxRing {
    pub fn new(mem: &HostMemory, id: u16, size: u16, ring: DmaBuf) -> TxRing {
        let arena_len = (usize::from(size) * 2048).max(1 << 20) + (512 << 10);
        TxRing {
            id,
            size,
            pidx: 0,
            cidx: 0,
            gen: false,
            in_use: 0,
            processed: 0,
            cleaned: 0,
            rs_pending: 0,
            db_pending: 0,
            ring,
            arena: Arena::new(mem, arena_len),
            slots: vec![None; usize::from(size)],
            segs: Vec::with_capacity(256),
            stats: TxStats::default(),
        }
    }

    /// iflib.c `get_inuse` / `TXQ_AVAIL`.
    pub fn avail(&self) -> u16 {
        let used = if self.pidx > self.cidx {
            self.pidx - self.cidx
        } else if self.pidx < self.cidx {
            self.size - self.cidx + self.pidx
        } else if self.gen {
            self.size
        } else {
            0
        };
        self.size - used
    }

    /// iflib.c `txq_max_rs_deferred` (ift_update_freq = IFLIB_DEFAULT_TX_UPDATE_FREQ 16).
    pub fn max_rs_deferred(&self) -> u16 {
        let notify = self.size / 16 - 1;
        let minthresh = self.size / 8;
        if self.in_use > 4 * minthresh {
            notify
        } else if self.in_use > 2 * minthresh {
            notify >> 1
        } else if self.in_use > minthresh {
            notify >> 2
        } else {
            2
        }
    }

    /// iflib.c `txq_max_db_deferred`.
    pub fn max_db_deferred(&self) -> u16 {
        let notify = self.size / 16 - 1;
        let minthresh = self.size / 8;
        if self.in_use > 4 * minthresh {
            notify
        } else if self.in_use > 2 * minthresh {
            notify >> 1
        } else if self.in_use > minthresh {
            notify >> 3
        } else {
            0
        }
    }

    /// Copy `pieces` of `frame` into the arena as busdma would map an mbuf chain:
    /// each piece contiguous, pieces apart, each split at `maxsegsize`. Fills
    /// `self.segs`; returns the arena offset, or None when the arena is full.
    pub fn load(
        &mut self,
        mem: &HostMemory,
        frame: &[u8],
        pieces: &[usize],
        maxsegsize: usize,
    ) -> Option<usize> {
        let need: usize = pieces
            .iter()
            .map(|p| p.next_multiple_of(64) + PIECE_GAP)
            .sum();
        let off = self.arena.alloc(need.max(64))?;
        self.segs.clear();
        let mut at = off;
        let mut src = 0;
        for &p in pieces {
            let bytes = &frame[src..src + p];
            // The arena is ours and in range (alloc checked): a write cannot fault.
            let _ = mem.write(self.arena.buf.iova + at as u64, bytes);
            let mut done = 0;
            while done < p {
                let n = (p - done).min(maxsegsize);
                self.segs.push(bus_dma_segment {
                    ds_addr: self.arena.buf.iova + (at + done) as u64,
                    ds_len: n as u64,
                });
                done += n;
            }
            at += p.next_multiple_of(64) + PIECE_GAP;
            src += p;
        }
        Some(off)
    }

    /// iflib_stop's TX part: forget every packet, indices to 0, descriptors zeroed.
    pub fn reset(&mut self, mem: &HostMemory, preserve_indices: bool) {
        self.slots.iter_mut().for_each(|s| *s = None);
        self.arena.reset();
        self.processed = 0;
        self.cleaned = 0;
        self.in_use = 0;
        self.gen = false;
        self.rs_pending = 0;
        self.db_pending = 0;
        if preserve_indices {
            self.cidx = self.pidx;
        } else {
            self.cidx = 0;
            self.pidx = 0;
        }
        let _ = mem.write(self.ring.iova, &vec![0u8; self.ring.len]);
    }
}

/// iflib's `struct iflib_fl` (one free list per RX queue, as iavf uses).
pub struct RxRing {
    pub id: u16,
    pub size: u16,
    pub pidx: u16,
    pub cidx: u16,
    pub credits: u16,
    pub buf_size: u32,
    pub ring: DmaBuf,
    pub bufs: Option<DmaBuf>,
    /// ifl_rx_bitmap: slot i has a buffer the hardware owns.
    pub posted: Vec<bool>,
    pub frags: Vec<if_rxd_frag>,
    pub paddrs: [u64; IFLIB_MAX_RX_REFRESH],
    pub idxs: [u16; IFLIB_MAX_RX_REFRESH],
    pub stats: RxStats,
}

impl RxRing {
    pub fn new(id: u16, size: u16, ring: DmaBuf) -> RxRing {
        RxRing {
            id,
            size,
            pidx: 0,
            cidx: 0,
            credits: 0,
            buf_size: 0,
            ring,
            bufs: None,
            posted: vec![false; usize::from(size)],
            frags: vec![
                if_rxd_frag {
                    irf_flid: 0,
                    irf_idx: 0,
                    irf_len: 0
                };
                IFLIB_MAX_RX_SEGS
            ],
            paddrs: [0; IFLIB_MAX_RX_REFRESH],
            idxs: [0; IFLIB_MAX_RX_REFRESH],
            stats: RxStats::default(),
        }
    }

    /// iflib.c `iflib_fl_bufs_free`: forget every buffer, indices to 0, ring zeroed.
    pub fn reset(&mut self, mem: &HostMemory) {
        self.pidx = 0;
        self.cidx = 0;
        self.credits = 0;
        self.posted.iter_mut().for_each(|p| *p = false);
        let _ = mem.write(self.ring.iova, &vec![0u8; self.ring.len]);
    }

    /// (Re)size the cluster region for `buf_size` (iflib_fl_setup picks the zone).
    pub fn set_buf_size(&mut self, mem: &HostMemory, buf_size: u32) {
        if self.buf_size == buf_size && self.bufs.is_some() {
            return;
        }
        if let Some(b) = self.bufs.take() {
            mem.free(b);
        }
        self.buf_size = buf_size;
        self.bufs = Some(mem.alloc(usize::from(self.size) * buf_size as usize, 4096));
    }

    pub fn buf_addr(&self, idx: u16) -> u64 {
        self.bufs
            .map_or(0, |b| b.iova + u64::from(idx) * u64::from(self.buf_size))
    }

    /// Read `len` bytes at `off` of slot `idx`'s cluster.
    pub fn read(&self, mem: &HostMemory, idx: u16, off: usize, out: &mut Vec<u8>, len: usize) {
        // Appended without zero-filling first; on a fault (not possible for a cluster
        // of ours) zeros stand in, as before.
        if mem
            .read_append(self.buf_addr(idx) + off as u64, len, out)
            .is_err()
        {
            out.resize(out.len() + len, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_is_a_fifo_byte_ring() {
        let mem = HostMemory::new();
        let mut a = Arena::new(&mem, 4096);
        let x = a.alloc(1000).unwrap(); // [0, 1024)
        let y = a.alloc(2000).unwrap(); // [1024, 3072)
        let w = a.alloc(1000).unwrap(); // [3072, 4096)
        assert_eq!((x, y, w), (0, 1024, 3072));
        assert!(a.alloc(1).is_none(), "full");
        assert!(!a.free(y), "frees must be in allocation order");
        assert!(a.free(x));
        let z = a.alloc(900).unwrap(); // wraps to the front: [0, 960)
        assert_eq!(z, 0);
        assert!(
            a.alloc(100).is_none(),
            "head may not run into the tail at 1024"
        );
        assert!(a.unalloc(z), "the newest allocation can be taken back");
        assert!(a.free(y));
        assert!(a.free(w));
        assert_eq!(a.alloc(4096), Some(0), "empty again: the whole arena");
        assert!(a.alloc(1).is_none());
    }

    #[test]
    fn tx_ring_avail_and_thresholds_follow_iflib() {
        let mem = HostMemory::new();
        let ring = mem.alloc(1024 * 16, 4096);
        let mut t = TxRing::new(&mem, 0, 1024, ring);
        assert_eq!(t.avail(), 1024);
        t.pidx = 10;
        t.in_use = 10;
        assert_eq!(t.avail(), 1014);
        // txq_max_rs_deferred: 2 while in_use <= size/8, then notify_count >> 2.
        assert_eq!(t.max_rs_deferred(), 2);
        t.in_use = 200;
        assert_eq!(t.max_rs_deferred(), (1024 / 16 - 1) >> 2);
        // Full ring: pidx == cidx with gen set.
        t.pidx = 0;
        t.cidx = 0;
        t.gen = true;
        assert_eq!(t.avail(), 0);
    }
}
