//! The seccomp allow-list against the runtimes another branch is adding (Java, Ruby, Go): each
//! runs a small workload (threads, a child process, a loopback HTTP exchange, interface
//! listing, files) inside a real sandbox and must finish it. Python, node, the Rust
//! `lambda_runtime` and awslambdaric are covered through the daemon by tests/compat.

use std::path::Path;

use super::support::{expect_line, Fixture};
use lambdabox::sandbox::{ExitStatus, Mount};

const JAVA: &str = r#"
import java.net.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
public class Main {
    public static void main(String[] a) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(4);
        int sum = 0;
        List<Callable<Integer>> tasks = List.of(() -> 1, () -> 2, () -> 3);
        for (Future<Integer> f : ex.invokeAll(tasks)) sum += f.get();
        ex.shutdown();
        Path p = Files.createTempFile("x", ".txt"); Files.writeString(p, "hello");
        Process pr = new ProcessBuilder("/bin/echo", "child").start();
        String child = new String(pr.getInputStream().readAllBytes()).trim(); pr.waitFor();
        List<String> nics = new ArrayList<>();
        for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) nics.add(n.getName());
        ServerSocket ss = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
        Thread t = new Thread(() -> { try (Socket c = ss.accept()) { c.getOutputStream().write(42); } catch (Exception e) {} });
        t.start();
        int got; try (Socket c = new Socket("127.0.0.1", ss.getLocalPort())) { got = c.getInputStream().read(); }
        t.join();
        System.out.println("java ok " + sum + " " + Files.readString(p) + " " + child + " " + nics + " " + got);
    }
}
"#;

const RUBY: &str = r#"
require 'socket'
require 'open3'
threads = 4.times.map { |i| Thread.new { i * i } }
sum = threads.map(&:value).sum
out, _ = Open3.capture2('/bin/echo', 'child')
pid = fork { exit!(0) }
Process.wait(pid)
srv = TCPServer.new('127.0.0.1', 0)
t = Thread.new { c = srv.accept; c.write('42'); c.close }
got = TCPSocket.new('127.0.0.1', srv.addr[1]).read
t.join
ifs = Socket.getifaddrs.map(&:name).uniq
File.write('/tmp/r', 'hello')
puts "ruby ok #{sum} #{File.read('/tmp/r')} #{out.strip} #{ifs} #{got}"
"#;

const GO: &str = r#"
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
)

func main() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	sum := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(k int) { defer wg.Done(); mu.Lock(); sum += k; mu.Unlock() }(i)
	}
	wg.Wait()
	child, err := exec.Command("/bin/echo", "child").Output()
	if err != nil {
		panic(err)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("42")) }))
	resp, err := http.Get("http://" + l.Addr().String() + "/")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	os.WriteFile("/tmp/g", []byte("hello"), 0o644)
	b, _ := os.ReadFile("/tmp/g")
	fmt.Printf("go ok %d %s %s %d %s\n", sum, b, child[:5], len(ifs), body)
}
"#;

fn run(fx: &Fixture, id: &str, argv: Vec<String>, file: &str, source: &str) -> String {
    let code = fx.code_dir(id);
    std::fs::write(code.join(file), source).expect("write source");
    let mut spec = lambdabox::sandbox::EnvSpec::new(id, argv);
    spec.mounts = vec![Mount::ro(&code, "/var/task")];
    spec.env = vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("HOME".into(), "/tmp".into()),
    ];
    spec.memory_mb = 1024;
    spec.tmp_mb = 128;
    let (info, out) = fx.run(&spec);
    assert_eq!(info.status, ExitStatus::Code(0), "{id}:\n{out}");
    out
}

#[test]
fn sandbox_allow_list_runs_java_ruby_and_static_go() {
    let fx = Fixture::new();
    let java = [
        "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java",
        "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists());
    match java {
        Some(java) => {
            let out = run(
                &fx,
                "java",
                vec![
                    java.into(),
                    "-XX:+UseSerialGC".into(),
                    "/var/task/Main.java".into(),
                ],
                "Main.java",
                JAVA,
            );
            assert!(
                out.lines()
                    .any(|l| l.starts_with("java ok 6 hello child [lo] 42")),
                "{out}"
            );
        }
        None => eprintln!("SKIP java: no JDK installed"),
    }
    if Path::new("/usr/bin/ruby").exists() {
        let out = run(
            &fx,
            "ruby",
            vec!["/usr/bin/ruby".into(), "/var/task/main.rb".into()],
            "main.rb",
            RUBY,
        );
        expect_line(&out, "ruby ok 14 hello child [\"lo\"] 42");
    } else {
        eprintln!("SKIP ruby: not installed");
    }
    if Path::new("/usr/bin/go").exists() {
        let src = fx.dir.path().join("gosrc");
        std::fs::create_dir_all(&src).expect("go dir");
        std::fs::write(src.join("main.go"), GO).expect("main.go");
        let bin = fx.code_dir("go").join("main");
        let status = std::process::Command::new("/usr/bin/go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg("main.go")
            .current_dir(&src)
            .env("CGO_ENABLED", "0")
            .env("GO111MODULE", "off")
            .env("GOCACHE", fx.dir.path().join("gocache"))
            .env("HOME", fx.dir.path())
            .status()
            .expect("go build");
        assert!(status.success(), "go build failed");
        let out = run(&fx, "go", vec!["/var/task/main".into()], "unused.txt", "");
        expect_line(&out, "go ok 28 hello child 1 42");
    } else {
        eprintln!("SKIP go: not installed");
    }
}
