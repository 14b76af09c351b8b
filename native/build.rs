//! Build script: links the system's libjxl when it is there (pkg-config `libjxl`, 0.7 or later), which
//! turns on `cfg(dicomfast_libjxl)`; without it JPEG XL decodes through jxl-oxide alone.
//! `DICOMFAST_NO_LIBJXL=1` builds without libjxl even where it is installed.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dicomfast_libjxl)");
    println!("cargo::rerun-if-env-changed=DICOMFAST_NO_LIBJXL");
    println!("cargo::rerun-if-env-changed=PKG_CONFIG_PATH");
    if std::env::var_os("DICOMFAST_NO_LIBJXL").is_some_and(|v| v != "0") {
        return;
    }
    let probe = Command::new("pkg-config")
        .args(["--atleast-version=0.7", "--libs-only-L", "libjxl"])
        .output();
    let Ok(probe) = probe else { return };
    if !probe.status.success() {
        return;
    }
    for dir in String::from_utf8_lossy(&probe.stdout).split_whitespace() {
        if let Some(dir) = dir.strip_prefix("-L") {
            println!("cargo::rustc-link-search=native={dir}");
        }
    }
    println!("cargo::rustc-cfg=dicomfast_libjxl");
}
