//! Message framing over the Unix stream socket, with file descriptors passed as
//! SCM_RIGHTS ancillary data (vfio-user.rst: fds travel with the message's bytes).
//!
//! A message is read whole (header, then `size - 16` bytes) before it is handled, so
//! a request the server rejects never leaves the stream out of step.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use super::proto::{Hdr, HDR_LEN, MAX_MSG, MAX_MSG_FDS};

/// One received message: header, payload (after the header) and the fds it carried.
pub struct Msg {
    pub hdr: Hdr,
    pub payload: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

/// Read one message. `Ok(None)` on a clean end of stream between messages.
pub fn recv(sock: &mut UnixStream) -> io::Result<Option<Msg>> {
    let mut hb = [0u8; HDR_LEN];
    let (n, fds) = recv_with_fds(sock, &mut hb)?;
    if n == 0 {
        return Ok(None);
    }
    if n < HDR_LEN {
        sock.read_exact(&mut hb[n..])?;
    }
    let hdr = Hdr::parse(&hb);
    let size = hdr.size as usize;
    if !(HDR_LEN..=MAX_MSG).contains(&size) {
        // The length is all we have to find the next message; a bad one means the
        // stream cannot be trusted any further.
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("vfio-user: bad message size {size}"),
        ));
    }
    let mut payload = vec![0u8; size - HDR_LEN];
    sock.read_exact(&mut payload)?;
    Ok(Some(Msg { hdr, payload, fds }))
}

/// Send one message (header and payload in one write; the server sends no fds).
pub fn send(sock: &mut UnixStream, hdr: &Hdr, payload: &[u8]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(HDR_LEN + payload.len());
    buf.extend_from_slice(&hdr.encode());
    buf.extend_from_slice(payload);
    sock.write_all(&buf)
}

/// recvmsg(2) into `buf`, collecting any SCM_RIGHTS fds.
fn recv_with_fds(sock: &UnixStream, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    // Control buffer for up to MAX_MSG_FDS ints, aligned for cmsghdr.
    let mut cbuf = [0u64; 64];
    // SAFETY: CMSG_SPACE is a pure computation on its argument.
    let cspace =
        unsafe { libc::CMSG_SPACE((MAX_MSG_FDS * std::mem::size_of::<libc::c_int>()) as u32) }
            as usize;
    debug_assert!(cspace <= std::mem::size_of_val(&cbuf));
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is a valid value (null pointers, zero lengths).
    let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.as_mut_ptr().cast();
    mh.msg_controllen = cspace as _;
    let n = loop {
        // SAFETY: mh points at iov (valid for buf.len() bytes) and cbuf (valid for
        // cspace bytes), all live for the duration of the call.
        let r = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut mh, libc::MSG_CMSG_CLOEXEC) };
        if r >= 0 {
            break r as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled, bounded
    // by msg_controllen; each SCM_RIGHTS payload is an array of fds now owned by us.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&mh);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c) as *const libc::c_int;
                let len = (*c).cmsg_len as usize - (data as usize - c as usize);
                for i in 0..len / std::mem::size_of::<libc::c_int>() {
                    let fd = std::ptr::read_unaligned(data.add(i));
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            c = libc::CMSG_NXTHDR(&mh, c);
        }
    }
    if mh.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "vfio-user: too many fds in one message",
        ));
    }
    Ok((n, fds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_fds(sock: &UnixStream, bytes: &[u8], fds: &[i32]) {
        let mut cbuf = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut _,
            iov_len: bytes.len(),
        };
        // SAFETY: test helper; all pointers reference live locals sized as declared.
        unsafe {
            let mut mh: libc::msghdr = std::mem::zeroed();
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            mh.msg_control = cbuf.as_mut_ptr().cast();
            mh.msg_controllen = libc::CMSG_SPACE((fds.len() * 4) as u32) as _;
            let c = libc::CMSG_FIRSTHDR(&mh);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN((fds.len() * 4) as u32) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(c) as *mut i32, fds.len());
            assert_eq!(
                libc::sendmsg(sock.as_raw_fd(), &mh, 0),
                bytes.len() as isize
            );
        }
    }

    #[test]
    fn message_with_fd_and_bad_size() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let f = std::fs::File::open("/dev/null").unwrap();
        let hdr = Hdr {
            id: 9,
            command: 2,
            size: 20,
            flags: 0,
            error: 0,
        };
        let mut m = hdr.encode().to_vec();
        m.extend_from_slice(&[1, 2, 3, 4]);
        send_fds(&a, &m, &[f.as_raw_fd()]);
        let msg = recv(&mut b).unwrap().unwrap();
        assert_eq!(msg.hdr, hdr);
        assert_eq!(msg.payload, vec![1, 2, 3, 4]);
        assert_eq!(msg.fds.len(), 1);
        // A size smaller than the header is unrecoverable.
        let bad = Hdr {
            id: 1,
            command: 1,
            size: 8,
            flags: 0,
            error: 0,
        };
        send_fds(&a, &bad.encode(), &[]);
        assert!(recv(&mut b).is_err());
        drop(a);
        assert!(recv(&mut b).unwrap().is_none());
    }
}
