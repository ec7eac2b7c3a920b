//! Network: the Runtime API listener handed to the daemon works from inside; network `none`
//! cannot reach the host's loopback; `host` with port rules allows only the listed ports.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::support::{collect, expect_line, Fixture, PRELUDE};
use lambdabox::sandbox::{ExitStatus, NetworkPolicy};

/// Accepts one connection, answers "pong" to "ping".
fn serve_one(listener: TcpListener) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).expect("read ping");
        conn.write_all(b"pong").expect("write pong");
        String::from_utf8_lossy(&buf).into_owned()
    })
}

const CLIENT: &str = "
import os, socket
host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b'ping')
print('reply', s.recv(4).decode(), flush=True)
";

#[test]
fn sandbox_runtime_api_listener_serves_the_environment() {
    let fx = Fixture::new();
    let spec = fx.python_spec("runtime-api", CLIENT);
    let mut env = fx.launch(&spec);
    assert_eq!(env.runtime_api_addr(), "127.0.0.1:9001");
    let listener = env.runtime_api_listener().expect("listener");
    assert!(
        env.runtime_api_listener().is_none(),
        "listener handed out twice"
    );
    assert_eq!(listener.local_addr().unwrap().port(), 9001);
    let server = serve_one(listener);
    let out = collect(&mut env);
    let info = env.wait();
    let text = out.join().unwrap();
    assert_eq!(info.status, ExitStatus::Code(0), "{text}");
    assert_eq!(server.join().unwrap(), "ping");
    expect_line(&text, "reply pong");
}

#[test]
fn sandbox_network_none_cannot_reach_host_loopback() {
    let fx = Fixture::new();
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    host.set_nonblocking(true).unwrap();
    let port = host.local_addr().unwrap().port();
    let script = format!(
        "{PRELUDE}
attempt('connect host loopback', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2))
attempt('connect outside', lambda: socket.create_connection(('10.0.0.1', 80), timeout=2))
print('interfaces', sorted(n for _, n in socket.if_nameindex()), flush=True)
"
    );
    let (info, out) = fx.run_python("net-none", &script);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    expect_line(&out, "connect host loopback: blocked ECONNREFUSED");
    assert!(out.contains("connect outside: blocked"), "{out}");
    expect_line(&out, "interfaces ['lo']");
    assert!(host.accept().is_err(), "the host listener got a connection");
}

#[test]
fn sandbox_host_network_with_port_rules() {
    let fx = Fixture::new();
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let denied = TcpListener::bind("127.0.0.1:0").unwrap();
    denied.set_nonblocking(true).unwrap();
    let (pa, pd) = (
        allowed.local_addr().unwrap().port(),
        denied.local_addr().unwrap().port(),
    );
    let script = format!(
        "{PRELUDE}{CLIENT}
attempt('connect allowed port', lambda: socket.create_connection(('127.0.0.1', {pa}), timeout=2) and 'ok')
attempt('connect other port', lambda: socket.create_connection(('127.0.0.1', {pd}), timeout=2))
"
    );
    let mut spec = fx.python_spec("net-host", &script);
    spec.network = NetworkPolicy::Host {
        tcp_connect_ports: Some(vec![pa]),
    };
    let mut env = fx.launch(&spec);
    let addr = env.runtime_api_addr();
    assert!(
        addr.starts_with("127.0.0.1:") && addr != "127.0.0.1:9001",
        "{addr}"
    );
    let server = serve_one(env.runtime_api_listener().expect("listener"));
    let acceptor = std::thread::spawn(move || allowed.accept().map(|_| ()).is_ok());
    let out = collect(&mut env);
    let info = env.wait();
    let text = out.join().unwrap();
    assert_eq!(info.status, ExitStatus::Code(0), "{text}");
    assert_eq!(server.join().unwrap(), "ping");
    expect_line(&text, "reply pong");
    expect_line(&text, "connect allowed port: ALLOWED 'ok'");
    expect_line(&text, "connect other port: blocked EACCES");
    assert!(acceptor.join().unwrap());
    assert!(denied.accept().is_err());
}

#[test]
fn sandbox_cannot_reach_host_abstract_unix_sockets() {
    use std::os::linux::net::SocketAddrExt;
    let fx = Fixture::new();
    let name = format!("lambdabox-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let host = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    host.set_nonblocking(true).unwrap();
    let script = format!(
        "{PRELUDE}
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect('\\0{name}')
attempt('abstract socket', connect)
"
    );
    // Own network namespace: a different abstract namespace.
    let (_, out) = fx.run_python("abstract-none", &script);
    expect_line(&out, "abstract socket: blocked ECONNREFUSED");
    // Host network: landlock scopes abstract sockets to the environment.
    let mut spec = fx.python_spec("abstract-host", &script);
    spec.network = NetworkPolicy::Host {
        tcp_connect_ports: None,
    };
    let (_, out) = fx.run(&spec);
    expect_line(&out, "abstract socket: blocked EPERM");
    assert!(host.accept().is_err(), "the host socket got a connection");
}
