//! Build script: compiles the Java runtime client (`src/runtime/clients/java`) with the build
//! host's `javac` into one jar that the binary embeds (`runtime::clients::JAVA_CLIENT_JAR`).
//!
//! Compiled at build time, not on first use, so that the daemon's host needs only a JRE (no
//! compiler on the invocation path, no class files written at run time) and every environment
//! gets the same reviewed bytes. `--release 8` makes one jar run on Java 8 through 25. Without
//! a JDK on the build host the binary is built without the client and lists the Java runtimes
//! as missing (with the reason); set `JAVAC` to pick a compiler.

use std::path::{Path, PathBuf};
use std::process::Command;

const SRC: &str = "src/runtime/clients/java";

fn main() {
    println!("cargo:rerun-if-changed={SRC}");
    println!("cargo:rerun-if-env-changed=JAVAC");
    println!("cargo:rerun-if-env-changed=JAVA_HOME");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let jar = out.join("lambdabox-java-runtime.jar");
    let generated = match build_jar(&out, &jar) {
        Ok(()) => format!(
            "/// True: this binary carries the Java runtime client.\npub const JAVA_CLIENT_BUILT: bool = true;\n/// The Java runtime client (built by build.rs).\npub const JAVA_CLIENT_JAR: &[u8] = include_bytes!({:?});\n",
            jar.display().to_string()
        ),
        Err(why) => {
            println!("cargo:warning=the Java runtime client is not built ({why}); Java runtimes will be unavailable");
            "/// False: built without a JDK.\npub const JAVA_CLIENT_BUILT: bool = false;\n/// Empty: built without a JDK.\npub const JAVA_CLIENT_JAR: &[u8] = &[];\n".to_string()
        }
    };
    if let Err(e) = std::fs::write(out.join("java_client.rs"), generated) {
        panic!("cannot write java_client.rs: {e}");
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    if name == "javac" {
        if let Some(p) = std::env::var_os("JAVAC") {
            return Some(PathBuf::from(p));
        }
    }
    if let Some(home) = std::env::var_os("JAVA_HOME") {
        let p = PathBuf::from(home).join("bin").join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            sources(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "java") {
            out.push(p);
        }
    }
    Ok(())
}

fn build_jar(out: &Path, jar: &Path) -> Result<(), String> {
    let javac = tool("javac").ok_or("no javac on PATH or in JAVA_HOME")?;
    // `jar` sits beside the javac that was found (resolve Debian's alternatives symlink).
    let real = std::fs::canonicalize(&javac).unwrap_or(javac.clone());
    let jar_tool = real
        .parent()
        .map(|d| d.join("jar"))
        .filter(|p| p.is_file())
        .or_else(|| tool("jar"))
        .ok_or("no jar tool beside javac")?;
    let mut files = Vec::new();
    sources(Path::new(SRC), &mut files).map_err(|e| format!("reading {SRC}: {e}"))?;
    files.sort();
    let classes = out.join("java-classes");
    let _ = std::fs::remove_dir_all(&classes);
    std::fs::create_dir_all(&classes).map_err(|e| e.to_string())?;
    let status = Command::new(&javac)
        .args([
            "--release",
            "8",
            "-Xlint:-options",
            "-encoding",
            "UTF-8",
            "-d",
        ])
        .arg(&classes)
        .args(&files)
        .status()
        .map_err(|e| format!("running {}: {e}", javac.display()))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", javac.display()));
    }
    let _ = std::fs::remove_file(jar);
    let status = Command::new(&jar_tool)
        .arg("cf")
        .arg(jar)
        .arg("-C")
        .arg(&classes)
        .arg(".")
        .status()
        .map_err(|e| format!("running {}: {e}", jar_tool.display()))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", jar_tool.display()));
    }
    Ok(())
}
