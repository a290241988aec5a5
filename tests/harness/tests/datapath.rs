//! The data path end to end: MTU limits and jumbo frames over several buffers, TSO
//! across the MSS range and sparse windows (the EFBIG path), VLAN insertion and
//! stripping, RSS spreading, checksum offload both ways.

mod common;

use common::*;
use ravf_harness::emu;
use ravf_harness::host::settle;
use ravf_harness::pkt::{self, Addrs, TcpFields};
use ravf_harness::{Offload, SegLayout};
use ravf_sys::*;

#[test]
fn mtu_limits() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    // iavf: IAVF_MIN_MTU 112, max IAVF_MAX_FRAME - 22 = 9706.
    assert_eq!(m.set_mtu(0, 111), EINVAL);
    assert_eq!(m.mtu(0), 1500);
    assert_eq!(m.set_mtu(0, 9707), EINVAL);
    assert_eq!(m.set_mtu(0, 112), 0);
    assert_eq!(m.set_mtu(0, 9706), 0);
    assert_eq!(m.mtu(0), 9706);
    assert_eq!(m.scctx(0).unwrap().isc_max_frame_size, 9728);
    assert_eq!(m.set_mtu(0, 1500), 0);
    assert!(m.run_until(2_000_000_000, |m| m.link_up(0)));
    let (mut a, mut b) = hosts(&m);
    assert!(
        ping(&mut m, &mut a, &mut b, 1),
        "traffic after MTU changes\n{}",
        dump(&m)
    );
    assert_clean(&m);
}

fn tcp4(
    a: &ravf_harness::host::Host,
    dst_mac: [u8; 6],
    dst: [u8; 4],
    seq: u32,
    ts: bool,
    data: &[u8],
) -> Vec<u8> {
    let f = TcpFields {
        sport: 1234,
        dport: 80,
        seq,
        ack: 1,
        flags: pkt::TCP_ACK,
        window: 1000,
    };
    let seg = pkt::tcp(Addrs::V4(a.ip, dst), f, ts, data);
    pkt::ether(
        dst_mac,
        a.mac,
        None,
        pkt::ETHERTYPE_IP,
        &pkt::ipv4(a.ip, dst, pkt::IPPROTO_TCP, 1, &seg),
    )
}

#[test]
fn jumbo_frames_over_several_buffers() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    for vf in 0..2 {
        assert_eq!(m.set_mtu(vf, 9000), 0);
    }
    assert!(m.run_until(2_000_000_000, |m| m.link_up(0) && m.link_up(1)));
    // iflib picked 4 KiB clusters for a 9022-byte max frame, and the driver told the
    // PF (CONFIG_VSI_QUEUES databuffer_size).
    assert_eq!(m.rx_buf_size(1), 4096);
    assert_eq!(
        emu::sim(&m).pf_state(1).unwrap().qcfg[0].unwrap().rx_buf,
        4096
    );
    let (a, mut b) = hosts(&m);
    b.keep = true;
    let data: Vec<u8> = (0..8960u32).map(|i| (i % 253) as u8).collect();
    let fr = tcp4(&a, b.mac, b.ip, 1, false, &data);
    assert_eq!(fr.len(), 14 + 9000);
    for off in [Offload::NONE, Offload::CSUM] {
        m.send(0, &fr, off).unwrap();
        settle(&mut m, &mut [&mut b]);
    }
    assert_eq!(b.kept.len(), 2, "{}", dump(&m));
    for f in &b.kept {
        assert_eq!(f.data, fr, "jumbo frame corrupted");
        assert!(f.nfrags >= 3, "9014 bytes in {}-fragment(s)", f.nfrags);
    }
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert_clean(&m);
}

/// Send `total` bytes of TCP in TSO frames of `chunk` payload at `mss`, with the
/// frame laid out per `layout`; the receiver must reassemble them exactly.
fn tso_run(
    mss: u16,
    chunk: usize,
    total: usize,
    layout: SegLayout,
    mtu: u32,
) -> (ravf_harness::queues::TxStats, usize) {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    if mtu != 1500 {
        for vf in 0..2 {
            assert_eq!(m.set_mtu(vf, mtu), 0);
        }
        assert!(m.run_until(2_000_000_000, |m| m.link_up(0) && m.link_up(1)));
    }
    let (mut a, mut b) = hosts(&m);
    let data: Vec<u8> = (0..total).map(|i| (i * 31 + i / 7) as u8).collect();
    let mut off = 0;
    while off < total {
        let n = chunk.min(total - off);
        let fr = tcp4(
            &a,
            b.mac,
            b.ip,
            1000 + off as u32,
            false,
            &data[off..off + n],
        );
        let r = m.send_on(0, 0, &fr, Offload::tso(mss), &layout);
        assert!(r.is_ok(), "mss {mss}: send at {off}: {r:?}\n{}", dump(&m));
        off += n;
        settle(&mut m, &mut [&mut a, &mut b]);
    }
    let rx = b.tcp.get(&(1234, 80)).cloned().unwrap_or_default();
    assert!(
        b.errors.is_empty(),
        "mss {mss}: {:?}",
        &b.errors[..b.errors.len().min(3)]
    );
    assert!(
        rx.max_seg <= usize::from(mss),
        "mss {mss}: segment of {}",
        rx.max_seg
    );
    assert_eq!(
        rx.stream(),
        data,
        "mss {mss}: stream differs ({} segments)\n{}",
        rx.segments,
        dump(&m)
    );
    assert_eq!(rx.hw_csum_ok, rx.segments, "mss {mss}: RX checksum status");
    assert_clean(&m);
    (m.tx_stats(0, 0), rx.segments as usize)
}

#[test]
fn tso_across_the_mss_range() {
    for &(mss, mtu) in &[
        (64u16, 1500u32),
        (536, 1500),
        (1460, 1500),
        (4000, 9000),
        (8960, 9000),
        (9668, 9706),
    ] {
        // At most 64 segments per send: the receiver has 128 buffers posted at first.
        let chunk = (usize::from(mss) * 64).min(60_000);
        let (st, segs) = tso_run(mss, chunk, 120_000, SegLayout::Contiguous, mtu);
        assert!(
            segs >= 120_000 / usize::from(mss),
            "mss {mss}: {segs} segments"
        );
        assert_eq!(
            st.encap_efbig, 0,
            "mss {mss}: contiguous frames need no defrag"
        );
    }
}

#[test]
fn tso_sparse_windows_take_the_efbig_path() {
    // 100-byte pieces of 4000-byte sends: about 41 DMA segments (busdma accepts up to
    // ntxd/12 = 85), but one 1448-byte window spans 15 descriptors, more than the 8 a
    // TSO segment may use: txd_encap must return EFBIG, iflib defragments (m_defrag,
    // 2 KiB clusters) and the retry succeeds.
    let (st, _) = tso_run(1448, 4000, 40_000, SegLayout::Chunks(100), 1500);
    assert!(
        st.encap_efbig >= 10,
        "the driver must refuse sparse windows: {st:?}"
    );
    assert_eq!(st.mbuf_defrag, st.encap_efbig, "{st:?}");
    assert_eq!(st.mbuf_defrag_failed, 0, "{st:?}");
    // More pieces than busdma takes (300 > 85): iflib defragments before the driver
    // sees the packet.
    let (st, _) = tso_run(1448, 30_000, 60_000, SegLayout::Chunks(100), 1500);
    assert!(st.mbuf_defrag >= 2, "{st:?}");
    assert_eq!(st.mbuf_defrag_failed, 0, "{st:?}");
    // Pieces of 700 bytes: windows span at most 4 descriptors, no EFBIG needed.
    let (st, _) = tso_run(1448, 30_000, 60_000, SegLayout::Chunks(700), 1500);
    assert_eq!(st.encap_efbig, 0, "{st:?}");
}

#[test]
fn checksum_offload_udp_and_ipv6() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    let (a, mut b) = hosts(&m);
    b.keep = true;
    let u4 = pkt::udp(Addrs::V4(a.ip, b.ip), 5, 6, &[7u8; 300]);
    let f4 = pkt::ether(
        b.mac,
        a.mac,
        None,
        pkt::ETHERTYPE_IP,
        &pkt::ipv4(a.ip, b.ip, pkt::IPPROTO_UDP, 3, &u4),
    );
    let s6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let d6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let t6 = pkt::tcp(
        Addrs::V6(s6, d6),
        TcpFields {
            sport: 9,
            dport: 10,
            seq: 5,
            ack: 0,
            flags: pkt::TCP_ACK,
            window: 9,
        },
        true,
        &[1u8; 500],
    );
    let f6 = pkt::ether(
        b.mac,
        a.mac,
        None,
        pkt::ETHERTYPE_IPV6,
        &pkt::ipv6(s6, d6, pkt::IPPROTO_TCP, &t6),
    );
    for f in [&f4, &f6] {
        m.send(0, f, Offload::CSUM).unwrap();
    }
    settle(&mut m, &mut [&mut b]);
    assert_eq!(b.kept.len(), 2, "{}", dump(&m));
    // The two flows may arrive on different RSS queues, so in either order.
    for want in [&f4, &f6] {
        let got = b
            .kept
            .iter()
            .find(|f| f.data[12..14] == want[12..14])
            .expect("frame received");
        assert_eq!(
            &got.data, want,
            "offloaded checksums differ from software ones"
        );
        assert!(
            got.csum_flags & CSUM_L4_VALID != 0,
            "RX L4 status {:#x}",
            got.csum_flags
        );
    }
    assert_clean(&m);
}

#[test]
fn vlan_insertion_and_stripping() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    for vf in 0..2 {
        m.vlan_register(vf, 100);
    }
    m.run_until_idle();
    assert!(m.run_until(2_000_000_000, |m| m.link_up(0) && m.link_up(1)));
    let (a, mut b) = hosts(&m);
    b.keep = true;
    let fr = tcp4(&a, b.mac, b.ip, 1, true, &[9u8; 200]);
    m.send(0, &fr, Offload::CSUM.with_vlan(100)).unwrap();
    // Software-tagged frames pass too (the tag is already in the data).
    let tagged = pkt::insert_vlan(&fr, 100);
    m.send(0, &tagged, Offload::NONE).unwrap();
    settle(&mut m, &mut [&mut b]);
    assert_eq!(b.kept.len(), 2, "{}", dump(&m));
    for f in &b.kept {
        assert_eq!(
            f.vtag.map(|t| t & 0xfff),
            Some(100),
            "stripped tag reported: {:?}",
            f.vtag
        );
        assert_eq!(f.data, fr, "frame after stripping");
    }
    m.vlan_unregister(1, 100);
    m.run_until_idle();
    assert_clean(&m);
}

#[test]
fn rss_spreads_flows_across_queues() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    assert_eq!(m.num_queues(1).1, 4);
    let (a, mut b) = hosts(&m);
    b.keep = true;
    for port in 0..64u16 {
        let f = TcpFields {
            sport: 10000 + port * 7,
            dport: 80,
            seq: 1,
            ack: 1,
            flags: pkt::TCP_ACK,
            window: 5,
        };
        let seg = pkt::tcp(Addrs::V4(a.ip, b.ip), f, false, b"x");
        let fr = pkt::ether(
            b.mac,
            a.mac,
            None,
            pkt::ETHERTYPE_IP,
            &pkt::ipv4(a.ip, b.ip, pkt::IPPROTO_TCP, port, &seg),
        );
        m.send_on(
            0,
            usize::from(port) % 4,
            &fr,
            Offload::NONE,
            &Default::default(),
        )
        .unwrap();
    }
    settle(&mut m, &mut [&mut b]);
    assert_eq!(b.kept.len(), 64, "{}", dump(&m));
    let mut per_q = [0usize; 4];
    for f in &b.kept {
        per_q[usize::from(f.qid)] += 1;
        assert_eq!(f.rsstype, M_HASHTYPE_RSS_TCP_IPV4, "hash type");
    }
    assert!(
        per_q.iter().filter(|&&n| n > 0).count() >= 3,
        "flows on queues {per_q:?}"
    );
    let hashes: std::collections::HashSet<u32> = b.kept.iter().map(|f| f.flowid).collect();
    assert!(hashes.len() > 32, "distinct flow hashes: {}", hashes.len());
    assert_clean(&m);
}

#[test]
fn rx_overrun_drops_and_the_ring_recovers() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    let (mut a, mut b) = hosts(&m);
    // iflib posts min(128, nrxd - 1) buffers at init and tops the ring up only as it
    // processes RX: a burst of 600 frames before VF1 gets to run overruns it.
    let fr = pkt::ether(b.mac, a.mac, None, 0x88b5, &[3u8; 46]);
    let burst: Vec<(&[u8], Offload)> = (0..600).map(|_| (&fr[..], Offload::NONE)).collect();
    assert_eq!(m.send_batch(0, 0, &burst, &SegLayout::Contiguous), Ok(600));
    settle(&mut m, &mut [&mut a, &mut b]);
    let dropped = emu::sim(&m).counters(1).rx_no_desc;
    assert!(
        dropped > 0,
        "the burst should overrun the 128 posted buffers"
    );
    assert_eq!(
        b.frames + dropped,
        600,
        "every frame delivered or counted as dropped"
    );
    // The ring is topped up to nrxd - 1 now: the same burst fits.
    let b0 = b.frames;
    assert_eq!(m.send_batch(0, 0, &burst, &SegLayout::Contiguous), Ok(600));
    settle(&mut m, &mut [&mut a, &mut b]);
    assert_eq!(b.frames - b0, 600, "{}", dump(&m));
    assert!(ping(&mut m, &mut a, &mut b, 1));
    assert_clean(&m);
}
