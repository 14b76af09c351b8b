//! Build script: builds libjxl (BSD-3-Clause; release 0.12.0, whose source the `jpegxl-src` crate carries)
//! with cmake and links it statically.
//!
//! - `DICOMFAST_SYSTEM_LIBJXL=1` links the system's libjxl instead (pkg-config `libjxl`, 0.7 or later;
//!   Debian's `libjxl-dev`): no cmake build, but Debian 12's 0.7 takes 1.18x as long per frame.
//! - `DICOMFAST_NO_LIBJXL=1` links nothing (dicomfast decodes JPEG XL through jxl-oxide alone).
//!
//! What was done goes to dicomfast-native's build script as `DEP_DICOMFAST_LIBJXL_LINKED` ("static",
//! "system" or "none"). Being its own crate, with no features, the cmake build (about 3 minutes on
//! 2 cores) runs once for every feature set of dicomfast-native (the extension, `cargo test`, clippy).
//! cmake takes CC / CXX / CFLAGS / CXXFLAGS from the environment, so the fuzz build
//! (`native/fuzz/fuzz.sh`) gets a libjxl under AddressSanitizer as it does for the other C codecs.

use std::process::Command;

fn main() {
    for var in ["DICOMFAST_NO_LIBJXL", "DICOMFAST_SYSTEM_LIBJXL", "PKG_CONFIG_PATH", "CC", "CXX"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let linked = if flag("DICOMFAST_NO_LIBJXL") {
        "none"
    } else if flag("DICOMFAST_SYSTEM_LIBJXL") {
        if link_system_libjxl() {
            "system"
        } else {
            println!(
                "cargo::warning=DICOMFAST_SYSTEM_LIBJXL is set but pkg-config finds no libjxl >= 0.7: JPEG XL goes through jxl-oxide"
            );
            "none"
        }
    } else {
        match_c_compiler();
        forget_other_compilers();
        // Emits the static link lines: jxl, jxl_cms, jxl_threads, hwy, brotli{dec,enc,common}, stdc++.
        jpegxl_src::build();
        "static"
    };
    println!("cargo::metadata=linked={linked}");
}

/// libjxl's CMakeLists refuses a C and a C++ compiler of different families, and `scripts/dev.sh` sets
/// `CXX=clang++` alone (the C codecs stay with cc): with CXX naming a clang++ and no CC set, the C
/// compiler of this build is the clang beside it (`clang++-14` gives `clang-14`).
fn match_c_compiler() {
    if std::env::var_os("CC").is_some() {
        return;
    }
    let Ok(cxx) = std::env::var("CXX") else { return };
    let Some(at) = cxx.rfind("clang++") else { return };
    let cc = format!("{}clang{}", &cxx[..at], &cxx[at + "clang++".len()..]);
    // SAFETY: a build script is one thread; nothing reads the environment concurrently.
    unsafe { std::env::set_var("CC", cc) };
}

/// cmake keeps the compilers of its first configure in the build folder's cache and stops when they
/// change ("Different C/C++ compilers set"): a build folder configured for other CC / CXX is removed.
fn forget_other_compilers() {
    let Some(out) = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from) else { return };
    let now = format!(
        "CC={}\nCXX={}\n",
        std::env::var("CC").unwrap_or_default(),
        std::env::var("CXX").unwrap_or_default()
    );
    let stamp = out.join("compilers.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|before| before != now) {
        let _ = std::fs::remove_dir_all(out.join("build"));
    }
    let _ = std::fs::write(&stamp, now);
}

/// An environment variable set to anything but "0".
fn flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v != "0")
}

/// Links the shared libjxl that pkg-config finds; false when there is none.
fn link_system_libjxl() -> bool {
    let probe = Command::new("pkg-config")
        .args(["--atleast-version=0.7", "--libs-only-L", "libjxl"])
        .output();
    let Ok(probe) = probe else { return false };
    if !probe.status.success() {
        return false;
    }
    for dir in String::from_utf8_lossy(&probe.stdout).split_whitespace() {
        if let Some(dir) = dir.strip_prefix("-L") {
            println!("cargo::rustc-link-search=native={dir}");
        }
    }
    println!("cargo::rustc-link-lib=jxl");
    true
}
