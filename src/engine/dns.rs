//! DNS for internet-only environments: the daemon serves the UDP socket and TCP listener that
//! the sandbox bound at 127.0.0.1:53 inside the environment's namespace, and forwards each
//! query to the configured resolvers from the host's network (which the environment itself
//! cannot reach). Bounded per environment: at most [`MAX_INFLIGHT`] UDP queries and
//! [`MAX_TCP`] TCP connections at once, every exchange with a timeout. Stops when the
//! environment exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{watch, Semaphore};

use crate::sandbox::ExitInfo;

/// UDP queries of one environment in flight at once (more are dropped; the client retries).
pub const MAX_INFLIGHT: usize = 64;
/// TCP connections of one environment at once.
pub const MAX_TCP: usize = 4;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Serves one environment's DNS sockets until `exit` reports the environment gone.
pub fn spawn(
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
    upstreams: Arc<Vec<SocketAddr>>,
    mut exit: watch::Receiver<Option<ExitInfo>>,
) -> std::io::Result<()> {
    udp.set_nonblocking(true)?;
    tcp.set_nonblocking(true)?;
    let udp = Arc::new(UdpSocket::from_std(udp)?);
    let tcp = TcpListener::from_std(tcp)?;
    tokio::spawn(async move {
        tokio::select! {
            _ = serve_udp(udp, Arc::clone(&upstreams)) => {}
            _ = serve_tcp(tcp, upstreams) => {}
            _ = exit.wait_for(Option::is_some) => {}
        }
    });
    Ok(())
}

async fn serve_udp(sock: Arc<UdpSocket>, upstreams: Arc<Vec<SocketAddr>>) {
    let slots = Arc::new(Semaphore::new(MAX_INFLIGHT));
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, client)) = sock.recv_from(&mut buf).await else {
            return;
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        if n < 12 {
            continue;
        }
        let query = buf[..n].to_vec();
        let (sock, upstreams) = (Arc::clone(&sock), Arc::clone(&upstreams));
        tokio::spawn(async move {
            if let Some(answer) = ask_udp(&query, &upstreams).await {
                let _ = sock.send_to(&answer, client).await;
            }
            drop(permit);
        });
    }
}

/// Asks each upstream in turn; the first answer whose ID matches wins.
async fn ask_udp(query: &[u8], upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    for up in upstreams {
        let bind: SocketAddr = if up.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let Ok(sock) = UdpSocket::bind(bind).await else {
            continue;
        };
        if sock.connect(up).await.is_err() || sock.send(query).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 65535];
        let deadline = tokio::time::Instant::now() + UPSTREAM_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Ok(Ok(n)) if n >= 12 && buf[..2] == query[..2] => {
                    buf.truncate(n);
                    return Some(buf);
                }
                Ok(Ok(_)) => continue,
                _ => break,
            }
        }
    }
    None
}

async fn serve_tcp(listener: TcpListener, upstreams: Arc<Vec<SocketAddr>>) {
    let slots = Arc::new(Semaphore::new(MAX_TCP));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Ok((conn, _)) = listener.accept().await else {
            return;
        };
        let upstreams = Arc::clone(&upstreams);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(TCP_IDLE * 3, relay_tcp(conn, &upstreams)).await;
            drop(permit);
        });
    }
}

/// Length-prefixed queries from the environment, each asked over TCP of the first upstream
/// that answers.
async fn relay_tcp(mut conn: TcpStream, upstreams: &[SocketAddr]) -> std::io::Result<()> {
    loop {
        let Ok(query) = tokio::time::timeout(TCP_IDLE, read_frame(&mut conn)).await else {
            return Ok(());
        };
        let query = query?;
        let mut answer = None;
        for up in upstreams {
            let asked = tokio::time::timeout(UPSTREAM_TIMEOUT * 2, async {
                let mut s = TcpStream::connect(up).await?;
                write_frame(&mut s, &query).await?;
                read_frame(&mut s).await
            })
            .await;
            if let Ok(Ok(a)) = asked {
                answer = Some(a);
                break;
            }
        }
        match answer {
            Some(a) => write_frame(&mut conn, &a).await?,
            None => return Ok(()),
        }
    }
}

async fn read_frame(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg).await?;
    Ok(msg)
}

async fn write_frame(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(msg.len())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    s.write_all(&out).await
}
