//! The main HTTP port against one client holding many connections: stalled uploads from one
//! address are capped per address, the rest are closed at once, stalled bodies time out, and
//! other clients (and `/health`) are served throughout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::{daemon, fd_count};

/// A connection from `source` that sent a complete POST head and 3 of 100,000 body bytes.
fn stalled_upload(source: &str, to: SocketAddr) -> Option<TcpStream> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    let src: SocketAddr = format!("{source}:0").parse().ok()?;
    sock.bind(&src.into()).ok()?;
    sock.connect_timeout(&to.into(), Duration::from_secs(2))
        .ok()?;
    let mut s: TcpStream = sock.into();
    s.write_all(b"POST /2015-03-31/functions/x/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc")
        .ok()?;
    s.set_nonblocking(true).ok()?;
    Some(s)
}

/// How many of `conns` the server has not closed.
fn still_open(conns: &mut [TcpStream]) -> usize {
    let mut buf = [0u8; 512];
    conns
        .iter_mut()
        .filter(|s| loop {
            match (&**s).read(&mut buf) {
                Ok(0) => break false,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                Err(_) => break false,
            }
        })
        .count()
}

#[test]
fn sandbox_daemon_main_port_caps_connections_per_client_and_stalled_bodies() {
    let _ = lambdabox::sandbox::raise_nofile_limit();
    let d = daemon(&[
        ("LAMBDABOX_SERVER__MAX_CONNECTIONS_PER_CLIENT", "100"),
        ("LAMBDABOX_SERVER__BODY_IDLE_TIMEOUT_SECS", "4"),
    ]);
    let to: SocketAddr = format!("127.0.0.1:{}", d.port).parse().expect("addr");
    let base_fds = fd_count(d.pid());
    let mut conns: Vec<TcpStream> = (0..1500)
        .filter_map(|_| stalled_upload("127.0.0.2", to))
        .collect();
    assert!(
        conns.len() >= 1000,
        "only {} connections opened",
        conns.len()
    );
    std::thread::sleep(Duration::from_secs(2));
    // Another client is served while the first holds its share.
    assert_eq!(d.get("/health").status(), 200);
    let held = still_open(&mut conns);
    let fds = fd_count(d.pid());
    eprintln!(
        "opened {}, held after 2 s: {held}; daemon fds {base_fds} -> {fds}",
        conns.len()
    );
    assert!(held <= 100, "{held} connections of one client kept open");
    assert!(fds <= base_fds + 120, "daemon fds {base_fds} -> {fds}");
    // The stalled bodies time out (4 s without a byte) and their connections close.
    let t0 = Instant::now();
    while still_open(&mut conns) > 0 && t0.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        still_open(&mut conns),
        0,
        "stalled uploads still open after {:?}",
        t0.elapsed()
    );
    drop(conns);
    // The client's slots were given back: it can connect again. A slot is given back when
    // the server drops the connection, a moment after the client reads its EOF: retry (bounded).
    let t0 = Instant::now();
    let held = loop {
        let mut again = stalled_upload("127.0.0.2", to).expect("reconnect");
        std::thread::sleep(Duration::from_millis(300));
        let open = still_open(std::slice::from_mut(&mut again));
        if open == 1 || t0.elapsed() > Duration::from_secs(10) {
            break open;
        }
    };
    assert_eq!(held, 1, "the client could not connect again");
}
