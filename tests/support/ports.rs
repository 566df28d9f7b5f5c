//! Free loopback ports. A port found free can be taken by someone else before the server binds
//! it, so callers retry the whole start when a bind fails.

use std::net::{Ipv4Addr, TcpListener};

/// `count` distinct TCP ports that were free on 127.0.0.1 a moment ago.
pub fn free_loopback_ports(count: usize) -> std::io::Result<Vec<u16>> {
    // Hold every listener until all are chosen so the kernel cannot hand out a port twice.
    let listeners = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|listener| listener.local_addr().map(|addr| addr.port()))
        .collect()
}
