//! Records, for the report, the rustc that built this and the resolved
//! versions of the compared crates (read from Cargo.lock).

fn main() {
    // compare/ is a member of the root workspace: the lock file is the root's.
    let lock_paths = ["../Cargo.lock"];
    for p in lock_paths {
        println!("cargo:rerun-if-changed={p}");
    }
    let lock = lock_paths
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    for (krate, var) in [
        ("dualtape", "DUALTAPE"),
        ("num-dual", "NUM_DUAL"),
        ("ad_trait", "AD_TRAIT"),
        ("autodiff", "AUTODIFF"),
        ("reverse", "REVERSE"),
        ("echidna", "ECHIDNA"),
        ("xad-rs", "XAD"),
    ] {
        let version = locked_version(&lock, krate).unwrap_or_else(|| "?".into());
        println!("cargo:rustc-env=VERSION_{var}={version}");
    }

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "rustc ?".into());
    println!("cargo:rustc-env=RUSTC_VERSION={version}");
}

fn locked_version(lock: &str, krate: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{krate}\"") {
            let v = lines.next()?.trim();
            return v
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(String::from);
        }
    }
    None
}
