//! Every PF reply parser of `ravf::virtchnl` on arbitrary bytes and declared lengths.
//!
//! Input: byte 0 = flags (bit 0: ADV_LINK_SPEED granted), bytes 1..3 = the datalen the
//! PF put in the AQ descriptor (for GET_VF_RESOURCES), the rest = the payload. Every
//! parser runs on every input; an `Ok` is checked field by field against a decoding
//! of the raw bytes written here from virtchnl.h offsets (hw-contract 4.5), and an
//! `Err` must be justified by the length or content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ravf::virtchnl::{self as vc, Event, ParseError};
use ravf_fuzz::input::{Draw, Input};

fn le16(p: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([p[at], p[at + 1]])
}
fn le32(p: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}
fn le64(p: &[u8], at: usize) -> u64 {
    u64::from(le32(p, at)) | (u64::from(le32(p, at + 4)) << 32)
}

fn check_version(p: &[u8]) {
    match vc::parse_version(p) {
        Ok((ma, mi)) => {
            assert!(p.len() >= 8);
            assert_eq!((ma, mi), (le32(p, 0), le32(p, 4)));
        }
        Err(e) => assert!(p.len() < 8, "VERSION of {} bytes refused: {e:?}", p.len()),
    }
}

/// `virtchnl_vf_resource`: 20-byte header, then 16-byte `virtchnl_vsi_resource`s.
fn check_vf_resources(p: &[u8], declared: usize) {
    let r = vc::parse_vf_resources(p, declared);
    if p.len() < 20 {
        assert!(matches!(r, Err(ParseError::Short { .. })), "{r:?}");
        return;
    }
    let num_vsis = le16(p, 0);
    let full = 20 + 16 * usize::from(num_vsis);
    let fits = usize::from(num_vsis).min((p.len() - 20) / 16);
    let sriov = (0..fits).find(|&k| le32(p, 20 + 16 * k + 4) as i32 == 6);
    match r {
        Ok(info) => {
            assert!(num_vsis > 0 && declared >= full);
            assert_eq!(info.num_vsis, num_vsis);
            assert_eq!(info.num_queue_pairs, le16(p, 2));
            assert_eq!(info.max_vectors, le16(p, 4));
            assert_eq!(info.max_mtu, le16(p, 6));
            assert_eq!(info.caps, le32(p, 8));
            assert_eq!(info.rss_key_size, le32(p, 12));
            assert_eq!(info.rss_lut_size, le32(p, 16));
            assert_eq!(usize::from(info.vsis_examined), fits);
            let k = sriov.expect("Ok without an SR-IOV VSI in the examined entries");
            let v = 20 + 16 * k;
            assert_eq!(info.vsi_id, le16(p, v));
            assert_eq!(info.vsi_num_queue_pairs, le16(p, v + 2));
            assert_eq!(info.qset_handle, le16(p, v + 8));
            assert_eq!(info.default_mac, p[v + 10..v + 16]);
        }
        Err(ParseError::BadCount) => assert_eq!(num_vsis, 0),
        Err(ParseError::Short { .. }) => assert!(declared < full),
        Err(ParseError::NoSriovVsi) => assert!(sriov.is_none() && num_vsis > 0),
    }
}

/// `virtchnl_eth_stats`: 12 u64 counters.
fn check_stats(p: &[u8]) {
    match vc::parse_eth_stats(p) {
        Ok(s) => {
            let got = [
                s.rx_bytes,
                s.rx_unicast,
                s.rx_multicast,
                s.rx_broadcast,
                s.rx_discards,
                s.rx_unknown_protocol,
                s.tx_bytes,
                s.tx_unicast,
                s.tx_multicast,
                s.tx_broadcast,
                s.tx_discards,
                s.tx_errors,
            ];
            for (k, v) in got.iter().enumerate() {
                assert_eq!(*v, le64(p, 8 * k));
            }
        }
        Err(_) => assert!(p.len() < 96),
    }
}

fn check_small(p: &[u8]) {
    match vc::parse_rss_hena(p) {
        Ok(h) => assert_eq!(h, le64(p, 0)),
        Err(_) => assert!(p.len() < 8),
    }
    match vc::parse_vf_res_request(p) {
        Ok(n) => assert_eq!(n, le16(p, 0)),
        Err(_) => assert!(p.len() < 2),
    }
}

/// `virtchnl_pf_event`: event i32, link speed u32 at 4, link status u8 at 8,
/// severity i32 at 12.
fn check_event(p: &[u8], adv: bool) {
    let r = vc::parse_event(p, adv);
    if p.len() < 16 {
        assert!(r.is_err(), "{r:?}");
        return;
    }
    let ev = le32(p, 0) as i32;
    match r.expect("16-byte event refused") {
        Event::LinkChange { up, speed_mbps } => {
            assert_eq!(ev, 1);
            assert_eq!(up, p[8] != 0);
            if !up {
                assert_eq!(speed_mbps, 0);
            } else if adv {
                assert_eq!(speed_mbps, le32(p, 4));
            }
        }
        Event::ResetImpending { severity } => {
            assert_eq!(ev, 2);
            assert_eq!(severity, le32(p, 12) as i32);
        }
        Event::PfDriverClose => assert_eq!(ev, 3),
        Event::Unknown(x) => {
            assert_eq!(x, ev);
            assert!(!(1..=3).contains(&ev));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let declared = usize::from(inp.u16());
    let payload = inp.rest();
    let adv = flags & 1 != 0;

    check_version(payload);
    check_vf_resources(payload, declared);
    // ravf copies at most RX_COPY (256) bytes of a message: the parser must be fine
    // with the declared length exceeding what it sees, and with any prefix.
    check_vf_resources(&payload[..payload.len().min(256)], declared);
    check_vf_resources(payload, payload.len());
    check_stats(payload);
    check_small(payload);
    check_event(payload, adv);

    // Names and conversions of untrusted values must be total too.
    if payload.len() >= 8 {
        let a = le32(payload, 0);
        let b = le32(payload, 4);
        let _ = vc::VcOp(a).name();
        let _ = format!("{:?} {}", vc::VcOp(a), vc::VcOp(a));
        let _ = vc::status::name(b as i32);
        let _ = vc::link_speed::to_mbps(b);
        let _ = format!("{:?}", vc::VfCaps::from_bits_retain(a));
    }
});
