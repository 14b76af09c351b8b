//! Build script: turns on `cfg(dicomfast_libjxl)` when the `dicomfast-libjxl-sys` crate linked a libjxl
//! (built from source by default, see its build script); without one JPEG XL decodes through jxl-oxide.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dicomfast_libjxl)");
    println!("cargo::rerun-if-env-changed=DEP_DICOMFAST_LIBJXL_LINKED");
    if let Ok("static" | "system") = std::env::var("DEP_DICOMFAST_LIBJXL_LINKED").as_deref() {
        println!("cargo::rustc-cfg=dicomfast_libjxl");
    }
}
